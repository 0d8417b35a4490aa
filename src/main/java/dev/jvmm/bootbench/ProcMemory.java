package dev.jvmm.bootbench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A VMM process's memory as /proc shows it from outside, the same way for every VMM: peak
 * resident set (VmHWM) and the resident part of its guest-RAM mapping, which is the mapping
 * whose size is the guest's RAM (the smallest one at least that large, in case a neighbour
 * merged into it).
 */
public final class ProcMemory {
    /**
     * One look at a process; a field is null when it could not be read (the process had gone).
     *
     * @param guestMapping the guest-RAM mapping as found, or null
     * @param error        why a field is missing, or null
     */
    public record Sample(Long peakRssKib, Long guestResidentKib, Mapping guestMapping, String error) {}

    /** One mapping of /proc/PID/smaps: its size, resident part and transparent huge pages, in KiB. */
    public record Mapping(long sizeKib, long rssKib, long anonHugeKib) {}

    static final Sample NONE = new Sample(null, null, null, "never sampled");

    private ProcMemory() {}

    public static Sample sample(long pid, long guestKib) {
        Long hwm = null;
        Mapping guest = null;
        String error = null;
        try {
            hwm = statusField(Files.readString(Path.of("/proc", Long.toString(pid), "status")), "VmHWM:");
            guest = guestMapping(Files.readString(Path.of("/proc", Long.toString(pid), "smaps")), guestKib);
            if (guest == null) {
                error = "no mapping of " + guestKib + " KiB or more in smaps";
            }
        } catch (IOException | RuntimeException e) {
            error = e.toString(); // the process ended between two reads: keep what was read
        }
        return new Sample(hwm, guest == null ? null : guest.rssKib(), guest, error);
    }

    /** A "Name:   123 kB" field of /proc/PID/status, in KiB, or null. */
    static Long statusField(String status, String name) {
        for (String line : status.split("\n")) {
            if (line.startsWith(name)) {
                return Long.parseLong(line.substring(name.length()).trim().split("\\s+")[0]);
            }
        }
        return null;
    }

    /** The smallest mapping in /proc/PID/smaps whose Size is at least {@code guestKib}, or null. */
    static Mapping guestMapping(String smaps, long guestKib) {
        Mapping best = null;
        long size = -1;
        long rss = -1;
        for (String line : smaps.split("\n")) {
            if (line.startsWith("Size:")) {
                size = kib(line);
                rss = -1;
            } else if (line.startsWith("Rss:")) {
                rss = kib(line);
            } else if (line.startsWith("AnonHugePages:") && size >= guestKib && rss >= 0
                    && (best == null || size < best.sizeKib())) {
                best = new Mapping(size, rss, kib(line));
            }
        }
        return best;
    }

    private static long kib(String line) {
        return Long.parseLong(line.substring(line.indexOf(':') + 1).trim().split("\\s+")[0]);
    }
}
