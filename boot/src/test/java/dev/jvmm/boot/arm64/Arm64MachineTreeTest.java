package dev.jvmm.boot.arm64;

import dev.jvmm.boot.fdt.Dtc;
import dev.jvmm.boot.fdt.Libfdt;
import dev.jvmm.vmm.memory.MemoryRegion;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * jvmm's arm64 machine trees read back by dtc: the expected source (checked line by line against
 * the 6.1 bindings when it was written), no warnings with every dtc check on, the same bytes as
 * dtc's own compile; the GICv2 and large-machine variants; and machines that cannot exist refused.
 */
class Arm64MachineTreeTest {
    @TempDir
    Path tmp;

    static final String BOOTARGS = "console=ttyS0 reboot=k panic=1";

    @BeforeAll
    static void tools() {
        Dtc.assumeInstalled();
    }

    /** 256 MiB, 2 vCPUs, three virtio devices from the allocator, an initrd of 1 MiB below a DTB at the top. */
    static Arm64Machine sample(int gicVersion) {
        Arm64Allocator a = new Arm64Allocator();
        List<Arm64Machine.Device> virtio = new ArrayList<>();
        for (String name : List.of("blk0", "net0", "rng")) {
            virtio.add(Arm64Machine.device(a.device(name, Arm64Layout.DEVICE_WINDOW)));
        }
        return Arm64Machine.standard(256 * Arm64Layout.MIB, 2, gicVersion, virtio, BOOTARGS, 0x8fd00000L, 0x8fe00000L);
    }

    static String resource(String name) throws IOException {
        try (InputStream in = Arm64MachineTreeTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void theSampleMachineDecompilesToTheExpectedSourceWithNoWarnings() throws Exception {
        byte[] dtb = Arm64MachineTree.dtb(sample(3));
        Dtc.Result r = Dtc.decompile(tmp, dtb);
        assertEquals(0, r.status(), r.err());
        assertEquals("", r.err(), "dtc warnings");
        assertEquals(resource("machine-gicv3.dts"), r.out());
        assertArrayEquals(Dtc.compile(tmp, r.out()), dtb, "dtc compiles the same source to the same bytes");
    }

    /** What Linux's early boot and its interrupt code take from the tree, read back through libfdt. */
    @Test
    void libfdtReadsTheMachineAsTheKernelWould() throws Exception {
        Libfdt.assumeInstalled();
        assertEquals(List.of("check ok", "root-cells 2 2", "bootargs " + BOOTARGS, "initrd 0x8fd00000 0x8fe00000",
                "stdout /serial@40002000 found", "memory 0x80000000 0x10000000", "cpu 0x0 psci", "cpu 0x1 psci",
                "interrupts /timer -> /interrupt-controller@3fff0000: <1 13 4> <1 14 4> <1 11 4> <1 10 4>",
                "interrupts /rtc@40001000 -> /interrupt-controller@3fff0000: <0 2 4>",
                "interrupts /serial@40002000 -> /interrupt-controller@3fff0000: <0 1 4>",
                "interrupts /virtio@40003000 -> /interrupt-controller@3fff0000: <0 16 1>",
                "interrupts /virtio@40004000 -> /interrupt-controller@3fff0000: <0 17 1>",
                "interrupts /virtio@40005000 -> /interrupt-controller@3fff0000: <0 18 1>"),
                Libfdt.read(tmp, Arm64MachineTree.dtb(sample(3))));
        List<String> big = Libfdt.read(tmp, Arm64MachineTree.dtb(Arm64Machine.standard(64 * Arm64Layout.GIB, 17, 3,
                List.of(), "console=ttyS0", 0, 0)));
        assertTrue(big.contains("memory 0x80000000 0x1000000000"), big.toString());
        assertTrue(big.contains("cpu 0x100 psci"), "vCPU 16: " + big);
    }

    @Test
    void theGicV2MachineNamesAGic400AndItsPpisCpuMask() throws Exception {
        byte[] dtb = Arm64MachineTree.dtb(sample(2));
        Dtc.Result r = Dtc.decompile(tmp, dtb);
        assertEquals("", r.err(), "dtc warnings");
        assertEquals("arm,gic-400", Dtc.fdtget(tmp, dtb, "s", "/interrupt-controller@3ffff000", "compatible"));
        assertEquals("0 3ffff000 0 1000 0 3fffd000 0 2000",
                Dtc.fdtget(tmp, dtb, "x", "/interrupt-controller@3ffff000", "reg"));
        // two CPUs: mask 0b11 in bits 8-15, level-high
        assertEquals("1 d 304 1 e 304 1 b 304 1 a 304", Dtc.fdtget(tmp, dtb, "x", "/timer", "interrupts"));
    }

    @Test
    void aLargeMachineHasOneCpuNodePerVcpuNamedByMpidrAndRamAbove4GiB() throws Exception {
        Arm64Machine m = Arm64Machine.standard(64 * Arm64Layout.GIB, 40, 3, List.of(), "console=ttyS0", 0, 0);
        byte[] dtb = Arm64MachineTree.dtb(m);
        Dtc.Result r = Dtc.decompile(tmp, dtb);
        assertEquals("", r.err(), "dtc warnings");
        assertEquals("0 80000000 10 0", Dtc.fdtget(tmp, dtb, "x", "/memory@80000000", "reg"), "64 GiB in two cells");
        assertEquals("f", Dtc.fdtget(tmp, dtb, "x", "/cpus/cpu@f", "reg"));
        assertEquals("100", Dtc.fdtget(tmp, dtb, "x", "/cpus/cpu@100", "reg"), "vCPU 16 is Aff1 1, Aff0 0");
        assertEquals("207", Dtc.fdtget(tmp, dtb, "x", "/cpus/cpu@207", "reg"), "vCPU 39 (0x27): Aff1 2, Aff0 7");
        assertEquals(40, r.out().split("device_type = \"cpu\"", -1).length - 1);
        // 40 redistributors of 128 KiB below the distributor
        assertEquals("0 3fff0000 0 10000 0 3faf0000 0 500000",
                Dtc.fdtget(tmp, dtb, "x", "/interrupt-controller@3fff0000", "reg"));
        assertFalse(r.out().contains("linux,initrd-start"), "no initrd, no initrd properties");
    }

    static void refused(String fragment, Supplier<Arm64Machine> m) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, m::get);
        assertTrue(e.getMessage().contains(fragment), "'" + e.getMessage() + "' should mention '" + fragment + "'");
        assertFalse(e.getMessage().contains("\n"), "one line");
    }

    static Arm64Machine with(List<MemoryRegion> memory, int vcpus, Arm64Machine.Gic gic, Arm64Machine.Device uart,
                             Arm64Machine.Device rtc, List<Arm64Machine.Device> virtio, String bootargs, long initrdStart,
                             long initrdEnd) {
        return new Arm64Machine(memory, vcpus, gic, uart, rtc, virtio, bootargs, initrdStart, initrdEnd);
    }

    @Test
    void machinesThatCannotExistAreRefused() {
        Arm64Machine good = sample(3);
        Arm64Machine.Device uart = good.uart();
        Arm64Machine.Device rtc = good.rtc();
        List<MemoryRegion> ram = good.memory();
        Arm64Machine.Gic v3 = good.gic();
        List<Arm64Machine.Device> none = List.of();
        refused("vCPU count 0", () -> with(ram, 0, v3, uart, rtc, none, "", 0, 0));
        refused("vCPU count 513 is outside 1..512", () -> Arm64Machine.standard(Arm64Layout.GIB, 513, 3, none, "", 0, 0));
        refused("vCPU count 9 is outside 1..8 (GICv2)", () -> Arm64Machine.standard(Arm64Layout.GIB, 9, 2, none, "", 0, 0));
        refused("GIC version 4", () -> Arm64Machine.standard(Arm64Layout.GIB, 1, 4, none, "", 0, 0));
        refused("128 KiB of redistributors per vCPU", () -> with(ram, 3, v3, uart, rtc, none, "", 0, 0));
        refused("64 KiB aligned", () -> with(ram, 2, new Arm64Machine.Gic(3, 0x3fff1000L, 0x10000, 0x3ffb0000L, 0x40000),
                uart, rtc, none, "", 0, 0));
        refused("platform page 0x40000000-0x40001000 overlaps GIC distributor at 0x40000000", () -> with(ram, 2,
                new Arm64Machine.Gic(3, 0x40000000L, 0x10000, 0x3ffb0000L, 0x40000), uart, rtc, none, "", 0, 0));
        refused("GIC redistributors 0x3ffc0000-0x40000000 overlaps GIC distributor", () -> with(ram, 2,
                new Arm64Machine.Gic(3, 0x3fff0000L, 0x10000, 0x3ffc0000L, 0x40000), uart, rtc, none, "", 0, 0));
        refused("is not below RAM", () -> with(ram, 2,
                new Arm64Machine.Gic(3, 0x80000000L, 0x10000, 0x3ffb0000L, 0x40000), uart, rtc, none, "", 0, 0));
        refused("is not below RAM", () -> with(ram, 2,
                new Arm64Machine.Gic(3, Long.MAX_VALUE - 0xffff, 0x10000, 0x3ffb0000L, 0x40000), uart, rtc, none, "", 0, 0));
        refused("UART window 0x3ffff000+0x1000 is not inside the device area 0x40000000-0x80000000", () -> with(ram, 2, v3,
                new Arm64Machine.Device(0x3ffff000L, 0x1000, 1), rtc, none, "", 0, 0));
        refused("platform page 0x40000000-0x40001000 overlaps UART", () -> with(ram, 2, v3,
                new Arm64Machine.Device(0x40000000L, 0x1000, 1), rtc, none, "", 0, 0));
        refused("virtio-mmio device 0 window 0x80000000+0x1000 is not inside the device area", () -> with(ram, 2, v3, uart,
                rtc, List.of(new Arm64Machine.Device(0x80000000L, 0x1000, 20)), "", 0, 0));
        refused("virtio-mmio device 1 window", () -> with(ram, 2, v3, uart, rtc,
                List.of(new Arm64Machine.Device(0x40003000L, 0x1000, 20), new Arm64Machine.Device(0x7ffff000L, 0x2000, 21)),
                "", 0, 0));
        refused("virtio-mmio device 0 0x40003000-0x40004000 overlaps virtio-mmio device 1", () -> with(ram, 2, v3, uart,
                rtc, List.of(new Arm64Machine.Device(0x40003000L, 0x1000, 20),
                        new Arm64Machine.Device(0x40003800L, 0x1000, 21)), "", 0, 0));
        refused("virtio-mmio device 1 SPI 20 is already another device's", () -> with(ram, 2, v3, uart, rtc,
                List.of(new Arm64Machine.Device(0x40003000L, 0x1000, 20), new Arm64Machine.Device(0x40004000L, 0x1000, 20)),
                "", 0, 0));
        refused("RTC SPI 1 is already another device's", () -> with(ram, 2, v3, uart,
                new Arm64Machine.Device(0x40001000L, 0x1000, 1), none, "", 0, 0));
        refused("SPI 96 is outside the GIC's 0..95", () -> with(ram, 2, v3, uart, rtc,
                List.of(new Arm64Machine.Device(0x40003000L, 0x1000, 96)), "", 0, 0));
        refused("SPI -1", () -> with(ram, 2, v3, new Arm64Machine.Device(0x40002000L, 0x1000, -1), rtc, none, "", 0, 0));
        refused("the guest has no RAM", () -> with(List.of(), 2, v3, uart, rtc, none, "", 0, 0));
        refused("RAM region 0x40000000+0x10000000 is not in order", () -> with(
                List.of(new MemoryRegion(0x40000000L, 0x10000000L)), 2, v3, uart, rtc, none, "", 0, 0));
        refused("RAM region 0xff80000000+0x100000000 is not in order inside", () -> with(
                List.of(new MemoryRegion(0xff80000000L, 1L << 32)), 2, v3, uart, rtc, none, "", 0, 0));
        refused("is not in order", () -> with(List.of(new MemoryRegion(0x90000000L, 0x1000000L),
                new MemoryRegion(0x80000000L, 0x1000000L)), 2, v3, uart, rtc, none, "", 0, 0));
        refused("kernel command line is 2048 characters; arm64 kernels take at most 2047", () -> with(ram, 2, v3, uart, rtc,
                none, "x".repeat(2048), 0, 0));
        refused("character 0xa at 5", () -> with(ram, 2, v3, uart, rtc, none, "quiet\ninit=/x", 0, 0));
        refused("initrd 0x8fe00000-0x8fd00000 is not a range inside guest RAM", () -> with(ram, 2, v3, uart, rtc, none, "",
                0x8fe00000L, 0x8fd00000L));
        refused("initrd 0x8ff00000-0x90100000", () -> with(ram, 2, v3, uart, rtc, none, "", 0x8ff00000L, 0x90100000L));
        refused("must be a positive multiple of 2 MiB", () -> Arm64Machine.standard(3 * Arm64Layout.MIB, 1, 3, none, "", 0, 0));
        refused("up to 1022 GiB", () -> Arm64Machine.standard(1023 * Arm64Layout.GIB, 1, 3, none, "", 0, 0));
        assertEquals(2047, with(ram, 2, v3, uart, rtc, none, "y".repeat(2047), 0, 0).bootargs().length());
    }
}
