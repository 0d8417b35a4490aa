package dev.jvmm.boot.x86;

import dev.jvmm.vmm.memory.MemoryRegion;

import java.util.ArrayList;
import java.util.List;

/** The e820 memory map jvmm reports to the guest. */
public final class E820 {
    public static final int RAM = 1;
    public static final int RESERVED = 2;

    public record Entry(long address, long size, int type) {}

    private E820() {}

    /**
     * RAM below the EBDA, RAM from 1 MiB to the end of low memory, and RAM above 4 GiB. The
     * BIOS area (640 KiB to 1 MiB), which holds the ACPI tables, is left out, so it is reserved.
     */
    public static List<Entry> forRam(List<MemoryRegion> ram) {
        List<Entry> out = new ArrayList<>();
        out.add(new Entry(0, X86Layout.EBDA_START, RAM));
        for (MemoryRegion r : ram) {
            long start = Math.max(r.guestBase(), X86Layout.HIGH_MEMORY_START);
            if (r.end() > start) {
                out.add(new Entry(start, r.end() - start, RAM));
            }
        }
        return out;
    }
}
