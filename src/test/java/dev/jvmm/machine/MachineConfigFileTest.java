package dev.jvmm.machine;

import dev.jvmm.machine.arch.Arch;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MachineConfigFileTest {
    @Test
    void roundTripsEveryField() throws IOException {
        MachineConfig c = new MachineConfig(Path.of("/lab/files/0-bzImage"), Path.of("/lab/files/1-init.cpio.gz"),
                "console=ttyS0 a=\"b c\" d=é", 512, 2, 30, true, false);
        assertEquals(c, MachineConfigFile.read(new StringReader(MachineConfigFile.write(c))));
        MachineConfig noInitrd = new MachineConfig(Path.of("/k"), null, null, 64, 1, 0, false, true);
        assertEquals(noInitrd, MachineConfigFile.read(new StringReader(MachineConfigFile.write(noInitrd))));
    }

    @Test
    void roundTripsAnImageBoot() throws IOException {
        MachineConfig c = new MachineConfig(null, null, "quiet", 256, 1, 300, true, false, null, Path.of("/tmp/m.json"),
                new ImageSpec(Path.of("/dev/jvmmimage"), "cat /etc/os-release; echo \"a b\"", Path.of("/dev/jvmmupdate"), 3,
                        "a note"));
        MachineConfig back = MachineConfigFile.read(new StringReader(MachineConfigFile.write(c)));
        assertEquals(c, back);
        assertEquals(null, back.kernel());
        MachineConfig plain = new MachineConfig(null, null, "", 256, 1, 0, false, false, null, null,
                new ImageSpec(Path.of("/i.img"), null, null, ImageSpec.DEFAULT_MAX_BOOTS, null));
        assertEquals(plain, MachineConfigFile.read(new StringReader(MachineConfigFile.write(plain))));
    }

    @Test
    void roundTripsTheArchitectureAndAnOlderFileIsTheHosts() throws IOException {
        MachineConfig arm = new MachineConfig(Path.of("/Image"), null, null, 128, 2, 0, false, false, null, null, null,
                Arch.aarch64);
        MachineConfig back = MachineConfigFile.read(new StringReader(MachineConfigFile.write(arm)));
        assertEquals(arm, back);
        assertEquals(Arch.aarch64, back.arch());
        MachineConfig old = MachineConfigFile.read(new StringReader("kernel=/k\ncmdline=x\nmemoryMib=64\ncpus=1\ntimeoutSeconds=0\n"));
        assertEquals(Arch.host(), old.arch());
        IOException e = assertThrows(IOException.class, () -> MachineConfigFile.read(new StringReader(
                "kernel=/k\ncmdline=x\nmemoryMib=64\ncpus=1\ntimeoutSeconds=0\narch=riscv64\n")));
        assertEquals("machine file: unknown architecture 'riscv64': x86_64 or aarch64", e.getMessage());
    }

    @Test
    void aMachineBootsAKernelOrAnImage() {
        assertThrows(IllegalArgumentException.class, () -> new MachineConfig(null, null, "", 256, 1, 0, false, false, null,
                null, null));
        assertThrows(IllegalArgumentException.class, () -> new MachineConfig(Path.of("/k"), null, "", 256, 1, 0, false, false,
                null, null, new ImageSpec(Path.of("/i.img"), null, null, 4, null)));
        assertThrows(IllegalArgumentException.class, () -> new ImageSpec(Path.of("/i.img"), null, null, 0, null));
    }

    @Test
    void missingOrBadFieldsAreErrors() {
        IOException e = assertThrows(IOException.class, () -> MachineConfigFile.read(new StringReader("kernel=/k\n")));
        assertTrue(e.getMessage().contains("cmdline"), e.getMessage());
        assertThrows(IOException.class, () -> MachineConfigFile.read(new StringReader(
                "kernel=/k\ncmdline=x\nmemoryMib=lots\ncpus=1\ntimeoutSeconds=0\n")));
        assertThrows(IllegalArgumentException.class, () -> MachineConfigFile.read(new StringReader(
                "kernel=/k\ncmdline=x\nmemoryMib=8\ncpus=1\ntimeoutSeconds=0\n")), "MachineConfig's own range checks apply");
    }
}
