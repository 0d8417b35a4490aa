package dev.jvmm.machine;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads back what {@link Timeline#print} wrote (a child jvmm's stderr with --timeline): the marks
 * with their milliseconds, the peak RSS and the guest's resident RAM. jvmm bench boot takes a
 * boot's phases from here rather than from a file the child would write with a JSON library
 * loaded at exit, which would be counted in the teardown it measures.
 */
public final class TimelineText {
    /** What a timeline said; memory figures are -1 where absent or unknown. */
    public record Parsed(List<Timeline.Event> events, long peakRssKib, long guestResidentKib) {
        /** Milliseconds of the first mark whose name starts with {@code prefix}, or null. */
        public Double millisOf(String prefix) {
            for (Timeline.Event e : events) {
                if (e.name().startsWith(prefix)) {
                    return e.nanosSinceStart() / 1e6;
                }
            }
            return null;
        }

        /** The same, for marks of one firmware pass ("boot N: " prefixed) or, for a kernel boot, unprefixed. */
        public Double millisOf(int pass, String prefix) {
            Double m = millisOf("boot " + pass + ": " + prefix);
            return m != null ? m : millisOf(prefix);
        }
    }

    private static final Pattern MARK = Pattern.compile("^\\s*(-?\\d+\\.\\d)\\s+\\(\\+\\s*-?\\d+\\.\\d\\)\\s\\s(.+?)\\s*$");
    private static final Pattern MEMORY = Pattern.compile(
            "^" + Pattern.quote(Timeline.MEMORY) + " peak RSS (-?\\d+) KiB, guest RAM resident (?:(\\d+) KiB|unknown)\\s*$");

    private TimelineText() {}

    /** The last timeline in {@code text} (other lines around it are ignored); null if there is none. */
    public static Parsed parse(String text) {
        String[] lines = text.split("\r?\n|\r");
        int start = -1;
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].trim().equals(Timeline.HEADER)) {
                start = i;
            }
        }
        if (start < 0) {
            return null;
        }
        List<Timeline.Event> events = new ArrayList<>();
        long peak = -1;
        long resident = -1;
        for (int i = start + 1; i < lines.length; i++) {
            Matcher m = MARK.matcher(lines[i]);
            if (m.matches()) {
                events.add(new Timeline.Event(m.group(2), Math.round(Double.parseDouble(m.group(1)) * 1e6)));
                continue;
            }
            Matcher mem = MEMORY.matcher(lines[i].trim());
            if (mem.matches()) {
                peak = Long.parseLong(mem.group(1));
                resident = mem.group(2) == null ? -1 : Long.parseLong(mem.group(2));
            }
            break;
        }
        return new Parsed(List.copyOf(events), peak, resident);
    }
}
