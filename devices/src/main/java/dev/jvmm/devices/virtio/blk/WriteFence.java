package dev.jvmm.devices.virtio.blk;

import dev.jvmm.devices.virtio.DeviceMetrics;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The fenced ranges of one drive, checked before a write-like request changes anything: kept
 * apart from the request handling so the whole-request decision (every segment, every range) is
 * made in one place. A refusal is counted once in total and once per range it touches; the first
 * refusal of each range is logged, the later ones only counted, so a guest cannot flood the log.
 */
final class WriteFence {
    static final String TOTAL = "fenced_writes";

    /** A run of sectors one request, or one discard/write-zeroes segment, would change. */
    record Extent(long sector, long sectors) {}

    private final List<FencedRange> ranges;
    /** Which ranges have had their one log line; guarded by the device's monitor. */
    private final boolean[] logged;

    WriteFence(List<FencedRange> ranges) {
        this.ranges = List.copyOf(ranges);
        Set<String> names = new HashSet<>();
        for (FencedRange r : this.ranges) {
            if (!names.add(r.name())) {
                throw new IllegalArgumentException("two fenced ranges are named " + r.name() + ": their counters would merge");
            }
        }
        this.logged = new boolean[this.ranges.size()];
    }

    static String counter(FencedRange range) {
        return TOTAL + "/" + range.name();
    }

    /** The counters to declare up front, so zeros show: the total, then one per range. */
    List<String> counters() {
        List<String> names = new ArrayList<>();
        names.add(TOTAL);
        for (FencedRange r : ranges) {
            names.add(counter(r));
        }
        return names;
    }

    /**
     * Whether a request that would change {@code extents} must be refused, because one of them
     * touches a fenced range. Refusals are counted in {@code metrics}; {@code log} gets the
     * first one of each range.
     */
    boolean refuses(String kind, List<Extent> extents, DeviceMetrics metrics, Consumer<String> log) {
        boolean refused = false;
        for (int i = 0; i < ranges.size(); i++) {
            FencedRange range = ranges.get(i);
            Extent hit = firstTouching(range, extents);
            if (hit == null) {
                continue;
            }
            refused = true;
            metrics.increment(counter(range));
            if (!logged[i]) {
                logged[i] = true;
                log.accept("refused a guest " + kind + " to sectors " + Long.toUnsignedString(hit.sector()) + "-"
                        + Long.toUnsignedString(hit.sector() + hit.sectors() - 1) + " in fenced range " + range.name()
                        + " (this range's later refusals are counted, not logged)");
            }
        }
        if (refused) {
            metrics.increment(TOTAL);
        }
        return refused;
    }

    private static Extent firstTouching(FencedRange range, List<Extent> extents) {
        for (Extent e : extents) {
            if (range.touches(e.sector(), e.sectors())) {
                return e;
            }
        }
        return null;
    }
}
