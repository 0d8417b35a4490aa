package dev.jvmm.vmm.x86;

/**
 * The CPU state a 64-bit boot entry needs: where to jump, the zero page in RSI, the boot stack,
 * and where the loader put the GDT, IDT and identity page tables. The GDT must hold
 * {@link #CODE_SELECTOR} (64-bit code), {@link #DATA_SELECTOR} and {@link #TSS_SELECTOR}.
 */
public record LongModeEntry(long rip, long rsi, long rsp, long gdtBase, int gdtLimit, long idtBase, int idtLimit,
                            long pml4) {
    public static final int CODE_SELECTOR = 0x08;
    public static final int DATA_SELECTOR = 0x10;
    public static final int TSS_SELECTOR = 0x18;
}
