package dev.jvmm.cli;

import dev.jvmm.machine.arch.Arch;
import dev.jvmm.machine.arch.Discovery;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** boot's options are declared by hand through picocli's API: each reaches its field, with its default. */
class BootCommandTest {
    private static BootCommand parse(String... args) {
        CommandSpec spec = BootCommand.spec();
        new CommandLine(spec).parseArgs(args);
        BootCommand boot = (BootCommand) spec.userObject();
        boot.takeValues();
        return boot;
    }

    @Test
    void defaults() {
        BootCommand b = parse();
        assertNull(b.image);
        assertNull(b.kernel);
        assertEquals(4, b.maxBoots);
        assertEquals(256, b.memoryMib);
        assertEquals(1, b.cpus);
        assertEquals(0, b.timeoutSeconds);
        assertFalse(b.timeline);
        assertTrue(b.rng);
        assertTrue(b.unpackKernel);
        assertEquals(Discovery.auto, b.discovery);
        assertEquals(LabMode.auto, b.lab);
        assertEquals(List.of(), b.drives);
        assertEquals(List.of(), b.nets);
        assertNull(b.vsock);
        assertNull(b.arch);
    }

    @Test
    void everyOptionReachesItsField() {
        BootCommand b = parse("--kernel", "k", "--initrd", "i", "--cmdline", "console=ttyS0", "--append", "quiet",
                "--arch", "aarch64", "--mem", "512", "--cpus", "2", "--timeout", "9", "--timeline", "--no-rng",
                "--no-unpack-kernel", "--drive", "path=a", "--drive", "path=b,ro", "--net", "tap=t0", "--vsock", "cid=3,uds=/tmp/v",
                "--virtio-discovery", "cmdline", "--metrics", "m.json", "--host-script", "h.sh", "--lab=never",
                "--exec", "true", "--update-from", "new.img", "--max-boots", "7", "disk.img");
        assertEquals(Path.of("disk.img"), b.image);
        assertEquals(Path.of("k"), b.kernel);
        assertEquals(Path.of("i"), b.initrd);
        assertEquals("console=ttyS0", b.cmdline);
        assertEquals("quiet", b.append);
        assertEquals(Arch.aarch64, b.arch);
        assertEquals(512, b.memoryMib);
        assertEquals(2, b.cpus);
        assertEquals(9, b.timeoutSeconds);
        assertTrue(b.timeline);
        assertFalse(b.rng);
        assertFalse(b.unpackKernel);
        assertEquals(List.of("path=a", "path=b,ro"), b.drives);
        assertEquals(List.of("tap=t0"), b.nets);
        assertEquals("cid=3,uds=/tmp/v", b.vsock);
        assertEquals(Discovery.cmdline, b.discovery);
        assertEquals(Path.of("m.json"), b.metrics);
        assertEquals(Path.of("h.sh"), b.hostScript);
        assertEquals(LabMode.never, b.lab);
        assertEquals("true", b.exec);
        assertEquals(Path.of("new.img"), b.updateFrom);
        assertEquals(7, b.maxBoots);
    }

    @Test
    void repeatedOptionsStartEmptyInEachModel() {
        parse("--drive", "path=a");
        assertEquals(List.of(), parse().drives);
    }

    @Test
    void helpNamesEveryOption() {
        CommandSpec spec = BootCommand.spec();
        String help = new CommandLine(spec).getUsageMessage();
        for (OptionSpec o : spec.options()) {
            assertTrue(help.contains(o.longestName().replace("--", "")), o.longestName() + " in " + help);
            assertFalse(o.description().length == 0, o.longestName() + " has a description");
        }
        assertTrue(help.contains("(default 256)"), help);
    }
}
