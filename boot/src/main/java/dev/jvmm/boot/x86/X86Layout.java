package dev.jvmm.boot.x86;

import dev.jvmm.vmm.memory.MemoryRegion;

import java.util.ArrayList;
import java.util.List;

/**
 * Where things go in x86 guest-physical memory. The low addresses follow Firecracker's layout
 * (src/vmm/src/arch/x86_64/layout.rs) so guests behave the same under both.
 */
public final class X86Layout {
    private X86Layout() {}

    public static final long GDT_START = 0x500;
    public static final long IDT_START = 0x520;
    public static final long ZERO_PAGE_START = 0x7000;
    public static final long BOOT_STACK_POINTER = 0x8ff0;
    public static final long PML4_START = 0x9000;
    public static final long PDPTE_START = 0xa000;
    public static final long PDE_START = 0xb000;
    /** End of conventional memory below the EBDA; RAM in e820 stops here. */
    public static final long EBDA_START = 0x9fc00;
    public static final long CMDLINE_START = 0x20000;
    public static final long CMDLINE_MAX = 4096;
    /** ACPI tables live in the BIOS area the kernel scans for the RSDP. */
    public static final long ACPI_START = 0xe0000;
    public static final long ACPI_END = 0x100000;
    public static final long HIGH_MEMORY_START = 0x100000;
    /** Start of the 1 GiB MMIO hole below 4 GiB; RAM past it continues at 4 GiB. */
    public static final long MMIO_GAP_START = 0xC000_0000L;
    public static final long MMIO_GAP_END = 0x1_0000_0000L;
    /** jvmm's platform page (boot timer, exit register), first page of the MMIO hole. */
    public static final long PLATFORM_PAGE = 0xC000_0000L;
    /** virtio-mmio devices, 4 KiB apart, from here up ({@link X86Allocator}). */
    public static final long VIRTIO_MMIO_START = 0xC000_1000L;
    public static final long VIRTIO_MMIO_WINDOW = 0x1000;
    /**
     * Interrupts for virtio devices, in the order {@link X86Allocator} hands them out: ISA lines
     * no platform device uses, then the IOAPIC's upper pins.
     */
    static final int[] VIRTIO_GSIS = {5, 6, 7, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23};
    /** COM1: the 16550A console, ttyS0. */
    public static final int SERIAL_PORT = 0x3f8;
    public static final int SERIAL_PORTS = 8;
    public static final int SERIAL_IRQ = 4;
    /** The i8042: data port 0x60, status/command port 0x64; keyboard IRQ 1. */
    public static final int I8042_PORT = 0x60;
    public static final int I8042_PORTS = 5;
    public static final int I8042_COMMAND_PORT = 0x64;
    public static final int KEYBOARD_IRQ = 1;
    public static final long IOAPIC_ADDRESS = 0xFEC0_0000L;
    public static final long LAPIC_ADDRESS = 0xFEE0_0000L;
    /** KVM's TSS and identity-map pages (Intel real-mode emulation), just below the IOAPIC. */
    public static final long KVM_TSS_ADDRESS = 0xFFFB_D000L;
    public static final long KVM_IDENTITY_MAP_ADDRESS = 0xFFFB_C000L;

    /** A range of guest memory jvmm writes before the kernel runs. */
    public record Reserved(long start, long end, String name) {}

    /** What jvmm writes below 1 MiB, by name, for refusing kernels that would overwrite it. */
    public static final List<Reserved> LOW_STRUCTURES = List.of(
            new Reserved(GDT_START, IDT_START + 0x100, "the GDT and IDT"),
            new Reserved(ZERO_PAGE_START, ZERO_PAGE_START + 0x1000, "the zero page (boot_params)"),
            new Reserved(BOOT_STACK_POINTER - 0xff0, BOOT_STACK_POINTER + 0x10, "the boot stack"),
            new Reserved(PML4_START, PDE_START + 0x1000, "the page tables"),
            new Reserved(CMDLINE_START, CMDLINE_START + CMDLINE_MAX, "the kernel command line"),
            new Reserved(EBDA_START, ACPI_START, "the EBDA and BIOS area"),
            new Reserved(ACPI_START, ACPI_END, "the ACPI tables"));

    /**
     * Null when [start, end) lies at or above 1 MiB; otherwise the jvmm structure it overlaps,
     * or the real-mode area that a kernel must leave alone.
     */
    public static String reservedBelowHighMemory(long start, long end) {
        if (start >= HIGH_MEMORY_START) {
            return null;
        }
        for (Reserved r : LOW_STRUCTURES) {
            if (start < r.end() && end > r.start()) {
                return String.format("%s at 0x%x-0x%x", r.name(), r.start(), r.end());
            }
        }
        return "the real-mode area below 1 MiB";
    }

    /** Guest RAM ranges for {@code bytes} of memory: below the MMIO hole, the rest above 4 GiB. */
    public static List<MemoryRegion> ramRegions(long bytes) {
        if (bytes < (16L << 20)) {
            throw new IllegalArgumentException("guest memory must be at least 16 MiB");
        }
        long low = Math.min(bytes, MMIO_GAP_START);
        List<MemoryRegion> list = new ArrayList<>();
        list.add(new MemoryRegion(0, low));
        if (bytes > low) {
            list.add(new MemoryRegion(MMIO_GAP_END, bytes - low));
        }
        return list;
    }
}
