package dev.jvmm.machine.x86;

import dev.jvmm.boot.acpi.AcpiTables;
import dev.jvmm.machine.DeviceSpecs;
import dev.jvmm.machine.MachineConfig;
import dev.jvmm.machine.MachineConfigFile;
import dev.jvmm.machine.arch.Discovery;
import dev.jvmm.machine.arch.Placed;
import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VirtioDiscoveryTest {
    private static final List<AcpiTables.MmioDevice> DEVICES = List.of(new AcpiTables.MmioDevice(0xc0001000L, 0x1000, 5),
            new AcpiTables.MmioDevice(0xc0002000L, 0x1000, 6));
    private static final String WORDS = "virtio_mmio.device=4K@0xc0001000:5 virtio_mmio.device=4K@0xc0002000:6";
    private static final String KERNEL_DEFAULT = "console=ttyS0 reboot=k panic=1 i8042.noaux i8042.nomux i8042.dumbkbd";

    private static VirtioDiscovery plan(Discovery how, String cmdline) {
        return VirtioDiscovery.of(how, cmdline, DEVICES, WORDS);
    }

    /** How many LNRO0005 devices the DSDT jvmm writes for {@code d} declares. */
    private static int dsdtVirtioDevices(VirtioDiscovery d) {
        byte[] dsdt = AcpiTables.build(new AcpiTables.Config(1, 0xfec00000L, 0xfee00000L, d.dsdtDevices()), 0xe0000)
                .entrySet().stream().filter(e -> e.getKey().startsWith("DSDT")).findFirst().orElseThrow().getValue();
        return new String(dsdt, StandardCharsets.ISO_8859_1).split("LNRO0005", -1).length - 1;
    }

    @Test
    void theDefaultIsAutoEverywhere() throws Exception {
        assertEquals(Discovery.auto, DeviceSpecs.Devices.DEFAULT.discovery());
        assertEquals(Discovery.auto, new DeviceSpecs.Devices(List.of(), List.of(), null, true).discovery());
        assertEquals(Discovery.auto, new DeviceSpecs.Devices(List.of(), List.of(), null, true, null).discovery());
        // A machine file from before the key existed.
        MachineConfig c = MachineConfigFile.read(new StringReader(
                "kernel=/k\ncmdline=console=ttyS0\nmemoryMib=256\ncpus=1\ntimeoutSeconds=0\n"));
        assertEquals(Discovery.auto, c.devices().discovery());
    }

    @Test
    void autoDescribesEachDeviceOnceInTheDsdtForAKernelWithAcpi() {
        VirtioDiscovery d = plan(Discovery.auto, KERNEL_DEFAULT);
        assertEquals(2, dsdtVirtioDevices(d));
        assertEquals(KERNEL_DEFAULT, d.appendTo(KERNEL_DEFAULT), "no virtio_mmio.device= words");
        String image = "BOOT_IMAGE=(hd0,gpt3)/vmlinuz console=ttyS0 root=/dev/dm-0 ro "
                + "\"dm-mod.create=root,,,ro,0 20480 verity 1 acpi=off 4096\" jvmm.slot=A";
        assertEquals(2, dsdtVirtioDevices(plan(Discovery.auto, image)), "acpi=off inside a quoted value is not a word");
    }

    @Test
    void autoUsesTheCommandLineWhenAcpiIsOff() {
        VirtioDiscovery d = plan(Discovery.auto, KERNEL_DEFAULT + " acpi=off");
        assertEquals(0, dsdtVirtioDevices(d));
        assertEquals(KERNEL_DEFAULT + " acpi=off " + WORDS, d.appendTo(KERNEL_DEFAULT + " acpi=off"));
        assertEquals(2, dsdtVirtioDevices(plan(Discovery.auto, "acpi=off acpi=force")), "the last one wins");
        assertEquals(0, dsdtVirtioDevices(plan(Discovery.auto, "acpi=force \"acpi=off\"")));
        assertEquals(2, dsdtVirtioDevices(plan(Discovery.auto, "console=ttyS0 -- acpi=off")), "after --: init's");
        assertEquals(2, dsdtVirtioDevices(plan(Discovery.auto, "acpi=noirq pci=off")));
    }

    @Test
    void theExplicitChoicesStayAsTheySay() {
        VirtioDiscovery both = plan(Discovery.both, KERNEL_DEFAULT);
        assertEquals(2, dsdtVirtioDevices(both));
        assertEquals(KERNEL_DEFAULT + " " + WORDS, both.appendTo(KERNEL_DEFAULT));
        VirtioDiscovery acpi = plan(Discovery.acpi, "acpi=off");
        assertEquals(2, dsdtVirtioDevices(acpi));
        assertEquals("acpi=off", acpi.appendTo("acpi=off"));
        VirtioDiscovery cmdline = plan(Discovery.cmdline, KERNEL_DEFAULT);
        assertEquals(0, dsdtVirtioDevices(cmdline));
        assertEquals(WORDS, cmdline.appendTo(""));
    }

    @Test
    void kernelWordsFollowTheKernelsQuoting() {
        assertEquals(List.of("a", "b=c d", "e"), VirtioDiscovery.kernelWords("  a \"b=c d\"  e -- f"));
        assertEquals(List.of("x=y"), VirtioDiscovery.kernelWords("x=\"y\""));
        assertFalse(VirtioDiscovery.acpiOff(""));
        assertTrue(VirtioDiscovery.acpiOff("console=ttyS0 acpi=off"));
    }
}
