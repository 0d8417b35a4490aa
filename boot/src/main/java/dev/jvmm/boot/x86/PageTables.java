package dev.jvmm.boot.x86;

import dev.jvmm.vmm.memory.GuestMemory;

/** Identity page tables for the first 1 GiB with 2 MiB pages, as the 64-bit boot entry needs. */
public final class PageTables {
    private static final long PRESENT_RW = 0x3;
    private static final long PAGE_SIZE_2M = 0x80;

    private PageTables() {}

    /** Writes PML4, PDPT and PD; returns the PML4 address for CR3. */
    public static long writeIdentity1G(GuestMemory mem) {
        mem.fill(X86Layout.PML4_START, 3 * 4096, (byte) 0);
        mem.write64(X86Layout.PML4_START, X86Layout.PDPTE_START | PRESENT_RW);
        mem.write64(X86Layout.PDPTE_START, X86Layout.PDE_START | PRESENT_RW);
        for (int i = 0; i < 512; i++) {
            mem.write64(X86Layout.PDE_START + i * 8L, ((long) i << 21) | PAGE_SIZE_2M | PRESENT_RW);
        }
        return X86Layout.PML4_START;
    }
}
