package dev.jvmm.boot.ab;

/**
 * The A/B bits in a GPT entry's attributes (little-endian u64), shared by GRUB's gptprio,
 * Bottlerocket's signpost and ChromeOS's cgpt: priority in bits 48-51, tries left in 52-55,
 * successful in bit 56. Other bits are kept as they are.
 */
public record AbAttributes(int priority, int triesLeft, boolean successful) {
    static final int PRIORITY_SHIFT = 48;
    static final int TRIES_SHIFT = 52;
    static final int SUCCESSFUL_BIT = 56;
    static final long MASK = (0xfL << PRIORITY_SHIFT) | (0xfL << TRIES_SHIFT) | (1L << SUCCESSFUL_BIT);

    public AbAttributes {
        if (priority < 0 || priority > 15 || triesLeft < 0 || triesLeft > 15) {
            throw new IllegalArgumentException("priority and tries are 4-bit values: " + priority + ", " + triesLeft);
        }
    }

    public static final AbAttributes ZERO = new AbAttributes(0, 0, false);

    public static AbAttributes of(long attributes) {
        return new AbAttributes((int) ((attributes >>> PRIORITY_SHIFT) & 0xf), (int) ((attributes >>> TRIES_SHIFT) & 0xf),
                ((attributes >>> SUCCESSFUL_BIT) & 1) != 0);
    }

    /** {@code attributes} with these A/B bits in place of its old ones. */
    public long applyTo(long attributes) {
        return (attributes & ~MASK) | ((long) priority << PRIORITY_SHIFT) | ((long) triesLeft << TRIES_SHIFT)
                | (successful ? 1L << SUCCESSFUL_BIT : 0);
    }

    public AbAttributes withPriority(int p) {
        return new AbAttributes(p, triesLeft, successful);
    }

    public AbAttributes withTries(int t) {
        return new AbAttributes(priority, t, successful);
    }

    public AbAttributes withSuccessful(boolean s) {
        return new AbAttributes(priority, triesLeft, s);
    }

    @Override
    public String toString() {
        return "priority=" + priority + " tries=" + triesLeft + " successful=" + (successful ? 1 : 0);
    }
}
