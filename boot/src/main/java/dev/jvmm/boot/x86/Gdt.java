package dev.jvmm.boot.x86;

import dev.jvmm.vmm.memory.GuestMemory;

/** The boot GDT: null, 64-bit code, data, TSS (Firecracker's flags), and an empty IDT. */
public final class Gdt {
    static final long[] ENTRIES = {
            0,
            entry(0xa09b, 0, 0xfffff), // code: present, DPL0, exec/read, long mode, 4K granularity
            entry(0xc093, 0, 0xfffff), // data: present, read/write, 32-bit, 4K granularity
            entry(0x808b, 0, 0xfffff), // TSS: present, busy 64-bit TSS
    };

    private Gdt() {}

    static long entry(int flags, long base, long limit) {
        return ((base & 0xff000000L) << 32) | ((base & 0x00ffffffL) << 16) | (limit & 0xffffL)
                | (((long) flags & 0xf0ffL) << 40) | ((limit & 0xf0000L) << 32);
    }

    /** Writes GDT and IDT; returns the GDT limit. */
    public static int write(GuestMemory mem) {
        for (int i = 0; i < ENTRIES.length; i++) {
            mem.write64(X86Layout.GDT_START + i * 8L, ENTRIES[i]);
        }
        mem.write64(X86Layout.IDT_START, 0);
        return ENTRIES.length * 8 - 1;
    }
}
