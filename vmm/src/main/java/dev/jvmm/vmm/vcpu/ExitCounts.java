package dev.jvmm.vmm.vcpu;

/**
 * How many times KVM_RUN came back to jvmm, by kind: port I/O, MMIO, interrupted (a signal, or
 * KVM_EXIT_INTR: a stop or another thread's kick, not the guest's doing) and the rest. A quiet
 * boot has a few hundred; a count that grows while the guest idles says which device it polls.
 */
public record ExitCounts(long io, long mmio, long interrupted, long other) {
    public static final ExitCounts NONE = new ExitCounts(0, 0, 0, 0);

    public long total() {
        return io + mmio + interrupted + other;
    }

    public ExitCounts plus(ExitCounts o) {
        return new ExitCounts(io + o.io, mmio + o.mmio, interrupted + o.interrupted, other + o.other);
    }

    /** "342 exits to jvmm: 230 I/O, 100 MMIO, 12 interrupted" (kinds with none left out). */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder().append(total()).append(" exits to jvmm");
        String sep = ": ";
        long[] n = {io, mmio, interrupted, other};
        String[] names = {"I/O", "MMIO", "interrupted", "other"};
        for (int i = 0; i < n.length; i++) {
            if (n[i] != 0) {
                sb.append(sep).append(n[i]).append(' ').append(names[i]);
                sep = ", ";
            }
        }
        return sb.toString();
    }
}
