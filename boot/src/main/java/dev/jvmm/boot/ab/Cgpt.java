package dev.jvmm.boot.ab;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * ChromeOS / Container-Optimized OS kernel selection (vboot cgptlib) and the cgpt commands
 * update_engine uses. The firmware boots the highest-priority kernel entry that is successful
 * or has tries left (priority 0 never; ties by entry order). Trying a kernel: a successful one
 * is left alone; one with more than one try loses a try; otherwise it is marked bad
 * (priority 0, tries 0).
 */
public final class Cgpt {
    public static final int DEFAULT_TRIES = 6;

    private Cgpt() {}

    public static Optional<Slot> next(List<Slot> kernels) {
        Slot best = null;
        for (Slot s : kernels) {
            AbAttributes a = s.attrs();
            if (a.priority() > 0 && (a.successful() || a.triesLeft() > 0)
                    && (best == null || a.priority() > best.attrs().priority())) {
                best = s;
            }
        }
        return Optional.ofNullable(best);
    }

    /** The kernel entries after the firmware tried {@code tried}. */
    public static List<Slot> afterTry(List<Slot> kernels, Slot tried) {
        List<Slot> out = new ArrayList<>();
        for (Slot s : kernels) {
            if (s.partitionNumber() != tried.partitionNumber() || s.attrs().successful()) {
                out.add(s);
            } else if (s.attrs().triesLeft() > 1) {
                out.add(s.with(s.attrs().withTries(s.attrs().triesLeft() - 1)));
            } else {
                out.add(s.with(s.attrs().withTries(0).withPriority(0)));
            }
        }
        return out;
    }

    /**
     * cgpt prioritize -i N [-P top]: N alone gets the highest rank; the other kernels keep their
     * order, compressed into distinct levels below it (never down to 0; priority 0 stays 0).
     */
    public static List<Slot> prioritize(List<Slot> kernels, int partitionNumber, int maxPriority) {
        Map<Integer, List<Integer>> groups = new LinkedHashMap<>(); // priority -> partition numbers
        for (Slot s : kernels) {
            int p = s.partitionNumber() == partitionNumber ? 99 : s.attrs().priority();
            groups.computeIfAbsent(p, k -> new ArrayList<>()).add(s.partitionNumber());
        }
        List<Integer> order = new ArrayList<>(groups.keySet());
        order.sort(Comparator.reverseOrder());
        if (!order.isEmpty() && order.get(order.size() - 1) == 0) {
            order.remove(order.size() - 1);
        }
        int priority = maxPriority > 0 ? maxPriority : Math.min(order.size(), 15);
        Map<Integer, Integer> assigned = new LinkedHashMap<>();
        for (int g : order) {
            for (int part : groups.get(g)) {
                assigned.put(part, priority);
            }
            if (priority > 1) {
                priority--;
            }
        }
        List<Slot> out = new ArrayList<>();
        for (Slot s : kernels) {
            Integer p = assigned.get(s.partitionNumber());
            out.add(p == null ? s : s.with(s.attrs().withPriority(p)));
        }
        return out;
    }

    private static Slot find(List<Slot> kernels, int number) {
        return kernels.stream().filter(s -> s.partitionNumber() == number).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no kernel entry " + number));
    }

    private static List<Slot> replace(List<Slot> kernels, Slot s) {
        return kernels.stream().map(k -> k.partitionNumber() == s.partitionNumber() ? s : k).toList();
    }

    /** update_engine after writing a new kernel: not yet successful, {@code tries} tries, top priority. */
    public static List<Slot> markForUpgrade(List<Slot> kernels, int number, int tries) {
        Slot s = find(kernels, number);
        return prioritize(replace(kernels, s.with(new AbAttributes(s.attrs().priority(), tries, false))), number, 0);
    }

    /** After a good boot: cgpt add -i N -S 1 -T 0, then cgpt prioritize -i N. */
    public static List<Slot> markSuccessful(List<Slot> kernels, int number) {
        Slot s = find(kernels, number);
        return prioritize(replace(kernels, s.with(s.attrs().withSuccessful(true).withTries(0))), number, 0);
    }

    /** Roll back to {@code number}: it must be bootable; it becomes the top priority. */
    public static List<Slot> rollback(List<Slot> kernels, int number) throws AbException {
        Slot s = find(kernels, number);
        if (!(s.attrs().successful() || s.attrs().triesLeft() > 0)) {
            throw new AbException("cannot roll back: kernel " + number + " is neither successful nor has tries left ("
                    + s.attrs() + ")");
        }
        return prioritize(kernels, number, 0);
    }

    /** Abandon a pending upgrade to {@code number}: cgpt add -i N -P 0. */
    public static List<Slot> cancelUpgrade(List<Slot> kernels, int number) {
        Slot s = find(kernels, number);
        return replace(kernels, s.with(s.attrs().withPriority(0)));
    }
}
