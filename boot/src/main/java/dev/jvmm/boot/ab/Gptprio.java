package dev.jvmm.boot.ab;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * GRUB's gptprio (coreos/grub grub-core/commands/gptprio.c), Bottlerocket's bootloader rule:
 * scan the boot entries in table order; an entry is eligible when it has tries left or is
 * successful, and wins when its priority is higher than the best so far (which starts at 0, so
 * priority 0 never boots; ties go to the earlier entry). Booting a winner with tries left
 * uses one try.
 */
public final class Gptprio {
    private Gptprio() {}

    /** The slot GRUB would boot, without changing anything. */
    public static Optional<Slot> next(List<Slot> slots) {
        Slot best = null;
        int bestPriority = 0;
        for (Slot s : slots) {
            AbAttributes a = s.attrs();
            if ((a.triesLeft() > 0 || a.successful()) && a.priority() > bestPriority) {
                best = s;
                bestPriority = a.priority();
            }
        }
        return Optional.ofNullable(best);
    }

    /** The slots after GRUB booted: the winner loses one try if it had any. */
    public static List<Slot> boot(List<Slot> slots) throws AbException {
        Slot winner = next(slots).orElseThrow(() -> new AbException("no bootable slot: every slot has priority 0, "
                + "or no tries left and is not marked successful"));
        List<Slot> out = new ArrayList<>();
        for (Slot s : slots) {
            if (s.partitionNumber() == winner.partitionNumber() && s.attrs().triesLeft() > 0) {
                out.add(s.with(s.attrs().withTries(s.attrs().triesLeft() - 1)));
            } else {
                out.add(s);
            }
        }
        return out;
    }
}
