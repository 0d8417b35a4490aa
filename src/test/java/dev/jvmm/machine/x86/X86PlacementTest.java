package dev.jvmm.machine.x86;

import dev.jvmm.boot.acpi.AcpiTables;
import dev.jvmm.boot.x86.X86Allocator;
import dev.jvmm.machine.Architectures;
import dev.jvmm.machine.DeviceSpecs;
import dev.jvmm.machine.MachineConfig;
import dev.jvmm.machine.VirtioSetup;
import dev.jvmm.machine.arch.Arch;
import dev.jvmm.machine.arch.Discovery;
import dev.jvmm.machine.arch.Placed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The x86 placement of a config's devices, as the builder makes it: one allocator's list gives
 * both the DSDT's LNRO0005 devices and the {@code virtio_mmio.device=} words, with the windows
 * and GSIs jvmm has always given (guests and scripts rely on them).
 */
class X86PlacementTest {
    @TempDir
    Path tmp;

    @Test
    void theConfigsDevicesGetTheirWindowsAndGsisAndOneListDescribesThemBothWays() throws Exception {
        Path disk = Files.write(tmp.resolve("disk.img"), new byte[4096]);
        DeviceSpecs.Devices devices = new DeviceSpecs.Devices(List.of(DeviceSpecs.Drive.parse("path=" + disk)), List.of(),
                null, true, Discovery.both);
        X86Allocator allocator = new X86Allocator();
        List<Placed> placed;
        try (VirtioSetup virtio = VirtioSetup.open(devices, System.err)) {
            placed = virtio.place(owner -> {
                X86Allocator.Allocation a = allocator.virtio(owner);
                return new Placed(a.owner(), a.base(), a.size(), a.gsi());
            });
        }
        assertEquals(List.of(new Placed("virtio-mmio device 0 (blk0)", 0xc0001000L, 0x1000, 5),
                new Placed("virtio-mmio device 1 (rng)", 0xc0002000L, 0x1000, 6)), placed);
        VirtioDiscovery both = VirtioDiscovery.of(Discovery.both, "console=ttyS0", placed);
        assertEquals("console=ttyS0 virtio_mmio.device=4K@0xc0001000:5 virtio_mmio.device=4K@0xc0002000:6",
                both.appendTo("console=ttyS0"));
        assertEquals("console=ttyS0 jvmm.platform=0xc0000000 virtio_mmio.device=4K@0xc0001000:5 virtio_mmio.device=4K@0xc0002000:6",
                X86Board.commandLine("console=ttyS0", both), "the platform page named for the guest's scripts");
        assertEquals("console=ttyS0 jvmm.platform=0xc0000000",
                X86Board.commandLine("console=ttyS0", VirtioDiscovery.of(Discovery.auto, "console=ttyS0", placed)));
        assertEquals(List.of(new AcpiTables.MmioDevice(0xc0001000L, 0x1000, 5), new AcpiTables.MmioDevice(0xc0002000L, 0x1000, 6)),
                both.dsdtDevices());
        byte[] dsdt = AcpiTables.build(new AcpiTables.Config(1, 0xfec00000L, 0xfee00000L, both.dsdtDevices()), 0xe0000)
                .entrySet().stream().filter(e -> e.getKey().startsWith("DSDT")).findFirst().orElseThrow().getValue();
        assertEquals(2, new String(dsdt, StandardCharsets.ISO_8859_1).split("LNRO0005", -1).length - 1);
    }

    @Test
    void anX86MachineHoldsSeventeenVirtioDevicesAndTheDefaultsStay() {
        MachineConfig c = new MachineConfig(Path.of("/k"), null, null, 256, 1, 0, false, false, null, null, null,
                Arch.x86_64);
        assertEquals(X86Architecture.DEFAULT_CMDLINE, c.cmdline());
        assertEquals(MachineConfig.DEFAULT_CMDLINE, c.cmdline());
        assertEquals(17, Architectures.of(Arch.x86_64).maxVirtioDevices());
        List<DeviceSpecs.Drive> drives = new ArrayList<>(Collections.nCopies(17, DeviceSpecs.Drive.parse("path=/d")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MachineConfig(Path.of("/k"),
                null, null, 256, 1, 0, false, false, new DeviceSpecs.Devices(drives, List.of(), null, true), null, null,
                Arch.x86_64));
        assertEquals("at most 17 virtio devices on x86_64, not 18", e.getMessage());
        assertTrue(new X86Architecture().refuses(Discovery.cmdline) == null);
    }
}
