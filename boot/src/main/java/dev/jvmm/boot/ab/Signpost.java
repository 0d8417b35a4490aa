package dev.jvmm.boot.ab;

/**
 * Bottlerocket's signpost rules for the two BOOT partitions (bottlerocket-os/bottlerocket,
 * sources/updater/signpost). A slot "will boot" when it has priority and tries left, or is
 * successful; A wins ties.
 *
 * <p>On a running host signpost knows the active slot from the mounted root. jvmm works on
 * images at rest, so the caller names the active slot, or takes {@link State#atRest}'s guess:
 * the successful slot with the highest priority (A on ties), else the slot the bootloader
 * would pick, else A.
 */
public final class Signpost {
    /** The two slots, A first, and which of them is running ("A" or "B"). */
    public record State(Slot a, Slot b, String activeName) {
        public State {
            if (!activeName.equals(a.name()) && !activeName.equals(b.name())) {
                throw new IllegalArgumentException("active slot must be " + a.name() + " or " + b.name());
            }
        }

        public static State atRest(Slot a, Slot b) {
            boolean aOk = a.attrs().successful();
            boolean bOk = b.attrs().successful();
            Slot active;
            if (aOk && bOk) {
                active = b.attrs().priority() > a.attrs().priority() ? b : a;
            } else if (aOk || bOk) {
                active = aOk ? a : b;
            } else {
                active = Gptprio.next(java.util.List.of(a, b)).orElse(a);
            }
            return new State(a, b, active.name());
        }

        public Slot active() {
            return activeName.equals(a.name()) ? a : b;
        }

        public Slot inactive() {
            return activeName.equals(a.name()) ? b : a;
        }

        /** The slot the bootloader boots next, if any. */
        public java.util.Optional<Slot> next() {
            return Gptprio.next(java.util.List.of(a, b));
        }

        State with(Slot s) {
            return s.name().equals(a.name()) ? new State(s, b, activeName) : new State(a, s, activeName);
        }
    }

    private Signpost() {}

    public static boolean willBoot(AbAttributes x) {
        return (x.priority() > 0 && x.triesLeft() > 0) || x.successful();
    }

    public static State markSuccessfulBoot(State s) {
        Slot act = s.active();
        return s.with(act.with(act.attrs().withSuccessful(true)));
    }

    public static State clearInactive(State s) {
        return s.with(s.inactive().with(AbAttributes.ZERO));
    }

    public static State markInactiveValid(State s) {
        Slot in = s.inactive();
        return s.with(in.with(in.attrs().withTries(1)));
    }

    public static State upgradeToInactive(State s) throws AbException {
        Slot act = s.active();
        Slot in = s.inactive();
        AbAttributes i = in.attrs();
        if (i.priority() != 0 || i.successful() || i.triesLeft() == 0) {
            throw new AbException("inactive slot " + in.name() + " is not a valid upgrade target (" + i
                    + "); it must be cleared, written and marked valid first");
        }
        State t = s.with(in.with(i.withPriority(2).withSuccessful(false)));
        return t.with(act.with(act.attrs().withPriority(1)));
    }

    public static State cancelUpgrade(State s) {
        Slot act = s.active();
        Slot in = s.inactive();
        State t = s.with(in.with(in.attrs().withPriority(0)));
        return t.with(act.with(act.attrs().withPriority(2)));
    }

    public static State rollbackToInactive(State s) throws AbException {
        Slot act = s.active();
        Slot in = s.inactive();
        if (!willBoot(in.attrs())) {
            throw new AbException("cannot roll back: inactive slot " + in.name() + " would not boot (" + in.attrs() + ")");
        }
        State t = s.with(in.with(in.attrs().withPriority(2)));
        return t.with(act.with(act.attrs().withPriority(1)));
    }
}
