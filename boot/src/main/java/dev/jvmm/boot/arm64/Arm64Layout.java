package dev.jvmm.boot.arm64;

import dev.jvmm.vmm.arm64.Arm64Gic;
import dev.jvmm.vmm.arm64.Arm64Kvm;
import dev.jvmm.vmm.memory.MemoryRegion;

import java.util.List;

/**
 * The arm64 guest's physical address map and interrupt numbering: where RAM starts, where the
 * GIC, the fixed devices and the virtio-mmio windows sit, and which GIC interrupts they use.
 * Modelled on Firecracker's (references.md): RAM from 2 GiB, devices in the gigabyte below it,
 * the platform page at Firecracker's boot-timer address.
 *
 * <pre>
 *   0x3bff_0000 .. 0x3fff_0000  GICv3 redistributors, 128 KiB per vCPU, growing down
 *   0x3fff_0000 .. 0x4000_0000  GICv3 distributor (GICv2: distributor at 0x3fff_f000, CPU
 *                               interface at 0x3fff_d000)
 *   0x4000_0000                 platform page: boot timer at +0, exit register at +0x10
 *   0x4000_1000                 PL031 RTC
 *   0x4000_2000                 ns16550a UART
 *   0x4000_3000 .. 0x8000_0000  virtio-mmio windows (and any later device), from {@link Arm64Allocator}
 *   0x8000_0000 ..              RAM, up to 1 TiB (KVM's default 40-bit IPA space)
 * </pre>
 */
public final class Arm64Layout {
    private Arm64Layout() {}

    public static final long KIB = 1L << 10;
    public static final long MIB = 1L << 20;
    public static final long GIB = 1L << 30;

    /** Start of RAM, as Firecracker and QEMU's virt board above its flash. 1 GiB aligned. */
    public static final long RAM_BASE = 0x8000_0000L;
    /** KVM_CREATE_VM type 0 gives a 40-bit IPA space: RAM must end by 1 TiB. */
    public static final long IPA_LIMIT = 1L << 40;
    public static final long RAM_MAX = IPA_LIMIT - RAM_BASE;

    /** The device gigabyte below RAM. */
    public static final long MMIO_START = 0x4000_0000L;
    public static final long MMIO_END = RAM_BASE;
    public static final long PAGE = 4 * KIB;

    /** Firecracker's arm64 boot-timer address; the same page layout as x86's 0xC000_0000. */
    public static final long PLATFORM_PAGE = MMIO_START;
    public static final long BOOT_TIMER = PLATFORM_PAGE;
    public static final long EXIT_REGISTER = PLATFORM_PAGE + 0x10;
    public static final long RTC_BASE = MMIO_START + 0x1000;
    public static final long UART_BASE = MMIO_START + 0x2000;
    public static final long DEVICE_WINDOW = PAGE;
    /** Where {@link Arm64Allocator} starts handing out windows. */
    public static final long ALLOCATABLE_START = MMIO_START + 0x3000;

    // GIC. Sizes are KVM's (asm/kvm.h KVM_VGIC_V3_DIST_SIZE and friends).
    public static final long GICV3_DIST_SIZE = Arm64Kvm.KVM_VGIC_V3_DIST_SIZE;
    public static final long GICV3_REDIST_SIZE = Arm64Kvm.KVM_VGIC_V3_REDIST_SIZE;
    public static final long GICV3_DIST_BASE = MMIO_START - GICV3_DIST_SIZE;
    public static final long GICV2_DIST_SIZE = Arm64Kvm.KVM_VGIC_V2_DIST_SIZE;
    public static final long GICV2_CPU_SIZE = Arm64Kvm.KVM_VGIC_V2_CPU_SIZE;
    public static final long GICV2_DIST_BASE = MMIO_START - GICV2_DIST_SIZE;
    public static final long GICV2_CPU_BASE = GICV2_DIST_BASE - GICV2_CPU_SIZE;
    /** KVM's limit on arm64 (KVM_MAX_VCPUS); GICv3 redistributors for all of them fit below the distributor. */
    public static final int MAX_VCPUS_GICV3 = 512;
    /** A GICv2 has eight CPU interfaces. */
    public static final int MAX_VCPUS_GICV2 = 8;

    /**
     * Interrupts the GIC implements (KVM_DEV_ARM_VGIC_GRP_NR_IRQS): 32 private (SGIs and PPIs)
     * plus SPIs; a multiple of 32.
     */
    public static final int GIC_NR_IRQS = 128;
    /** The first SPI's interrupt ID: device-tree SPI numbers count from here. */
    public static final int SPI_BASE = 32;
    public static final int SPI_COUNT = GIC_NR_IRQS - SPI_BASE;
    /** Fixed SPIs of the fixed devices, as on QEMU's virt board. */
    public static final int UART_SPI = 1;
    public static final int RTC_SPI = 2;
    /** Where {@link Arm64Allocator} starts handing out SPIs (QEMU's virt puts virtio-mmio from 16 too). */
    public static final int FIRST_ALLOCATABLE_SPI = 16;

    // Architected timer PPIs (Arm's Server Base System Architecture numbers, as every VMM uses).
    public static final int TIMER_SECURE_PPI = 13;
    public static final int TIMER_PHYS_PPI = 14;
    public static final int TIMER_VIRT_PPI = 11;
    public static final int TIMER_HYP_PPI = 10;

    /** Where both GIC versions go for {@code vcpus}, for {@link Arm64Gic#create}. */
    public static Arm64Gic.Placement gicPlacement(int vcpus) {
        return new Arm64Gic.Placement(GICV3_DIST_BASE, gicv3RedistBase(vcpus), GICV2_DIST_BASE, GICV2_CPU_BASE,
                GIC_NR_IRQS);
    }

    /** Where the GICv3 redistributors for {@code vcpus} start: directly below the distributor. */
    public static long gicv3RedistBase(int vcpus) {
        checkVcpus(vcpus, MAX_VCPUS_GICV3, "GICv3");
        return GICV3_DIST_BASE - vcpus * GICV3_REDIST_SIZE;
    }

    public static void checkVcpus(int vcpus, int max, String gic) {
        if (vcpus < 1 || vcpus > max) {
            throw new IllegalArgumentException("vCPU count " + vcpus + " is outside 1.." + max + " (" + gic + ")");
        }
    }

    /** Guest RAM of {@code bytes}: one region from {@link #RAM_BASE}; a 2 MiB multiple up to {@link #RAM_MAX}. */
    public static List<MemoryRegion> ram(long bytes) {
        if (bytes <= 0 || bytes > RAM_MAX || bytes % (2 * MIB) != 0) {
            throw new IllegalArgumentException(String.format("arm64 guest RAM of 0x%x bytes must be a positive multiple of "
                    + "2 MiB up to %d GiB", bytes, RAM_MAX / GIB));
        }
        return List.of(new MemoryRegion(RAM_BASE, bytes));
    }
}
