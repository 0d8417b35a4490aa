package dev.jvmm.boot.arm64;

import dev.jvmm.vmm.memory.MemoryRegion;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What an arm64 guest is made of, as its device tree describes it: RAM, vCPUs, the GIC, the
 * UART and RTC, the virtio-mmio devices, the command line and the initrd. Immutable; the
 * constructor refuses an inconsistent machine (overlapping windows, shared or out-of-range
 * interrupts, RAM outside the address space, a command line the kernel would truncate) with one
 * line, so {@link Arm64MachineTree} only ever describes a machine that can exist.
 *
 * @param initrdStart equal to {@code initrdEnd} when there is no initrd
 */
public record Arm64Machine(List<MemoryRegion> memory, int vcpus, Gic gic, Device uart, Device rtc, List<Device> virtio,
                           String bootargs, long initrdStart, long initrdEnd) {
    /** arm64's COMMAND_LINE_SIZE, NUL included: a longer command line is cut short by the kernel. */
    public static final int MAX_BOOTARGS = 2047;

    /** A device: its MMIO window and its SPI (the number after the first 32 interrupt IDs). */
    public record Device(long base, long size, int spi) {}

    /**
     * The interrupt controller. {@code version} 3: {@code dist} and the redistributors in
     * {@code second}, 128 KiB per vCPU; version 2: {@code dist} and the CPU interface in {@code second}.
     */
    public record Gic(int version, long distBase, long distSize, long secondBase, long secondSize) {
        /** jvmm's GICv3 placement for {@code vcpus} (Arm64Layout). */
        public static Gic v3(int vcpus) {
            return new Gic(3, Arm64Layout.GICV3_DIST_BASE, Arm64Layout.GICV3_DIST_SIZE, Arm64Layout.gicv3RedistBase(vcpus),
                    vcpus * Arm64Layout.GICV3_REDIST_SIZE);
        }

        /** jvmm's GICv2 placement, for hosts whose GIC cannot emulate a v3. */
        public static Gic v2() {
            return new Gic(2, Arm64Layout.GICV2_DIST_BASE, Arm64Layout.GICV2_DIST_SIZE, Arm64Layout.GICV2_CPU_BASE,
                    Arm64Layout.GICV2_CPU_SIZE);
        }
    }

    public Arm64Machine {
        memory = List.copyOf(memory);
        virtio = List.copyOf(virtio);
        checkMemory(memory);
        if (gic.version() == 3) {
            Arm64Layout.checkVcpus(vcpus, Arm64Layout.MAX_VCPUS_GICV3, "GICv3");
            need(gic.distSize() == Arm64Layout.GICV3_DIST_SIZE && gic.secondSize() == vcpus * Arm64Layout.GICV3_REDIST_SIZE,
                    "GICv3 needs a 64 KiB distributor and 128 KiB of redistributors per vCPU");
            need(gic.distBase() % (64 * Arm64Layout.KIB) == 0 && gic.secondBase() % (64 * Arm64Layout.KIB) == 0,
                    "GICv3 regions must be 64 KiB aligned");
        } else if (gic.version() == 2) {
            Arm64Layout.checkVcpus(vcpus, Arm64Layout.MAX_VCPUS_GICV2, "GICv2");
            need(gic.distSize() == Arm64Layout.GICV2_DIST_SIZE && gic.secondSize() == Arm64Layout.GICV2_CPU_SIZE,
                    "GICv2 needs a 4 KiB distributor and an 8 KiB CPU interface");
            need(gic.distBase() % Arm64Layout.PAGE == 0 && gic.secondBase() % Arm64Layout.PAGE == 0,
                    "GICv2 regions must be 4 KiB aligned");
        } else {
            throw new IllegalArgumentException("GIC version " + gic.version() + ": jvmm describes versions 2 and 3");
        }
        List<Window> windows = new ArrayList<>();
        windows.add(new Window("platform page", Arm64Layout.PLATFORM_PAGE, Arm64Layout.PAGE));
        windows.add(new Window("GIC distributor", gic.distBase(), gic.distSize()));
        windows.add(new Window(gic.version() == 3 ? "GIC redistributors" : "GIC CPU interface", gic.secondBase(),
                gic.secondSize()));
        windows.add(deviceWindow("UART", uart));
        windows.add(deviceWindow("RTC", rtc));
        for (int i = 0; i < virtio.size(); i++) {
            windows.add(deviceWindow("virtio-mmio device " + i, virtio.get(i)));
        }
        checkWindows(windows, memory);
        Set<Integer> spis = new HashSet<>();
        checkSpi("UART", uart.spi(), spis);
        checkSpi("RTC", rtc.spi(), spis);
        for (int i = 0; i < virtio.size(); i++) {
            checkSpi("virtio-mmio device " + i, virtio.get(i).spi(), spis);
        }
        checkBootargs(bootargs);
        if (initrdStart != initrdEnd) {
            need(initrdStart < initrdEnd && memory.stream().anyMatch(r -> r.contains(initrdStart, initrdEnd - initrdStart)),
                    String.format("initrd 0x%x-0x%x is not a range inside guest RAM", initrdStart, initrdEnd));
        }
    }

    /**
     * jvmm's standard machine: {@code ramBytes} of RAM from 2 GiB, the GIC of {@code gicVersion},
     * UART and RTC at their fixed places, and the virtio devices as the allocator placed them.
     */
    public static Arm64Machine standard(long ramBytes, int vcpus, int gicVersion, List<Device> virtio, String bootargs,
                                        long initrdStart, long initrdEnd) {
        Gic gic = gicVersion == 3 ? Gic.v3(vcpus) : gicVersion == 2 ? Gic.v2()
                : new Gic(gicVersion, 0, 0, 0, 0);
        return new Arm64Machine(Arm64Layout.ram(ramBytes), vcpus, gic,
                new Device(Arm64Layout.UART_BASE, Arm64Layout.DEVICE_WINDOW, Arm64Layout.UART_SPI),
                new Device(Arm64Layout.RTC_BASE, Arm64Layout.DEVICE_WINDOW, Arm64Layout.RTC_SPI), virtio, bootargs,
                initrdStart, initrdEnd);
    }

    /** A device of an {@link Arm64Allocator} allocation. */
    public static Device device(Arm64Allocator.Allocation a) {
        return new Device(a.base(), a.size(), a.spi());
    }

    private record Window(String what, long base, long size) {
        long end() {
            return base + size;
        }
    }

    private static Window deviceWindow(String what, Device d) {
        need(d.size() > 0 && d.base() >= Arm64Layout.MMIO_START && d.base() < Arm64Layout.MMIO_END
                        && d.size() <= Arm64Layout.MMIO_END - d.base(),
                String.format("%s window 0x%x+0x%x is not inside the device area 0x%x-0x%x", what, d.base(), d.size(),
                        Arm64Layout.MMIO_START, Arm64Layout.MMIO_END));
        return new Window(what, d.base(), d.size());
    }

    private static void checkMemory(List<MemoryRegion> memory) {
        need(!memory.isEmpty(), "the guest has no RAM");
        long previousEnd = Arm64Layout.RAM_BASE;
        for (MemoryRegion r : memory) {
            need(r.guestBase() >= previousEnd && r.size() <= Arm64Layout.IPA_LIMIT - r.guestBase(),
                    String.format("RAM region 0x%x+0x%x is not in order inside 0x%x-0x%x", r.guestBase(), r.size(),
                            Arm64Layout.RAM_BASE, Arm64Layout.IPA_LIMIT));
            previousEnd = r.end();
        }
    }

    private static void checkWindows(List<Window> windows, List<MemoryRegion> memory) {
        long ramBase = memory.get(0).guestBase();
        for (Window w : windows) {
            need(w.base() >= 0 && w.size() > 0 && w.base() <= ramBase && w.size() <= ramBase - w.base(), String.format(
                    "%s 0x%x+0x%x is not below RAM at 0x%x", w.what(), w.base(), w.size(), ramBase));
        }
        List<Window> sorted = new ArrayList<>(windows);
        sorted.sort(Comparator.comparingLong(Window::base));
        for (int i = 1; i < sorted.size(); i++) {
            Window a = sorted.get(i - 1);
            Window b = sorted.get(i);
            need(a.end() <= b.base(), String.format("%s 0x%x-0x%x overlaps %s at 0x%x", a.what(), a.base(), a.end(),
                    b.what(), b.base()));
        }
    }

    private static void checkSpi(String what, int spi, Set<Integer> taken) {
        need(spi >= 0 && spi < Arm64Layout.SPI_COUNT, what + " SPI " + spi + " is outside the GIC's 0.."
                + (Arm64Layout.SPI_COUNT - 1));
        need(taken.add(spi), what + " SPI " + spi + " is already another device's");
    }

    private static void checkBootargs(String bootargs) {
        need(bootargs.length() <= MAX_BOOTARGS, "kernel command line is " + bootargs.length()
                + " characters; arm64 kernels take at most " + MAX_BOOTARGS);
        for (int i = 0; i < bootargs.length(); i++) {
            char c = bootargs.charAt(i);
            need(c >= 0x20 && c <= 0x7e, String.format("kernel command line has character 0x%x at %d; printable ASCII "
                    + "only", (int) c, i));
        }
    }

    private static void need(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
