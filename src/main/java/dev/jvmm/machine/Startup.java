package dev.jvmm.machine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/**
 * When this jvmm process started, on the clock {@link System#nanoTime} reads (CLOCK_MONOTONIC),
 * so boot phases can be measured from the real start of the process. The kernel's own record of
 * a process's start is in clock ticks (10 ms), and {@code ProcessHandle}'s start instant is
 * derived from the boot time in whole seconds; a precise origin comes from whoever started us:
 * <ol>
 *   <li>{@code JVMM_T0_MONO_NS}: the starter's {@code System.nanoTime()} just before it started
 *       this process (jvmm bench boot, jvmm smoke) — the same clock, no conversion;</li>
 *   <li>{@code JVMM_LAUNCH_EPOCH}: the launcher script's {@code $EPOCHREALTIME} (microseconds of
 *       wall-clock time, read by bash without a fork), converted through the wall clock;</li>
 *   <li>otherwise /proc/self/stat's start time against /proc/uptime (to about 10 ms).</li>
 * </ol>
 * A value inherited from a parent jvmm (environment variables pass down to children that do not
 * set their own) lies before this process's coarse start, and is ignored.
 */
public final class Startup {
    public static final String ENV_MONO = "JVMM_T0_MONO_NS";
    public static final String ENV_EPOCH = "JVMM_LAUNCH_EPOCH";
    /** How far before the kernel's coarse start time (10 ms ticks) a precise origin may lie. */
    static final long COARSE_SLACK_NANOS = 30_000_000L;

    private static volatile long mainEnteredNanos;
    private static volatile Origin origin;

    /** The origin and where it came from ("starter", "launcher", "kernel", "none"). */
    public record Origin(long nanos, String source) {}

    private Startup() {}

    /** Called first thing in main: the "JVM entered main" phase. */
    public static void mainEntered() {
        if (mainEnteredNanos == 0) {
            mainEnteredNanos = System.nanoTime();
        }
    }

    /** System.nanoTime() when main was entered, or 0 if no main recorded it (tests, embedded use). */
    public static long mainEnteredNanos() {
        return mainEnteredNanos;
    }

    /** This process's start, found once. */
    public static Origin origin() {
        Origin o = origin;
        if (o == null) {
            o = find(System.getenv(ENV_MONO), System.getenv(ENV_EPOCH), coarseStartNanos(), System.nanoTime(),
                    Instant.now());
            origin = o;
        }
        return o;
    }

    /**
     * The origin from the starter's monotonic stamp or the launcher's epoch stamp, checked against
     * the coarse start ({@code coarse}, or -1 if unknown); else the coarse start; else now.
     */
    static Origin find(String mono, String epoch, long coarse, long nowNanos, Instant now) {
        Long fromStarter = parseLong(mono);
        if (fromStarter != null && plausible(fromStarter, coarse, nowNanos)) {
            return new Origin(fromStarter, "starter");
        }
        Long epochNanos = parseEpoch(epoch);
        if (epochNanos != null) {
            long nowEpochNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
            long fromLauncher = nowNanos - (nowEpochNanos - epochNanos);
            if (plausible(fromLauncher, coarse, nowNanos)) {
                return new Origin(fromLauncher, "launcher");
            }
        }
        if (coarse >= 0 && coarse <= nowNanos) {
            return new Origin(coarse, "kernel");
        }
        return new Origin(nowNanos, "none");
    }

    private static boolean plausible(long t, long coarse, long nowNanos) {
        if (t > nowNanos) {
            return false;
        }
        if (coarse >= 0) {
            return t >= coarse - COARSE_SLACK_NANOS;
        }
        return nowNanos - t < 60_000_000_000L; // without the kernel's word, a minute is the limit
    }

    private static Long parseLong(String s) {
        if (s == null || !digits(s, s.startsWith("-") ? 1 : 0, s.length(), 19)) {
            return null;
        }
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** bash's EPOCHREALTIME: seconds, a decimal point (or comma, by locale), microseconds. */
    static Long parseEpoch(String s) {
        int point = s == null ? -1 : Math.max(s.indexOf('.'), s.indexOf(','));
        if (point < 0 || !digits(s, 0, point, 12) || !digits(s, point + 1, s.length(), 9)) {
            return null;
        }
        String frac = (s.substring(point + 1) + "000000000").substring(0, 9);
        return Long.parseLong(s.substring(0, point)) * 1_000_000_000L + Long.parseLong(frac);
    }

    /**
     * Whether s[from, to) is 1 to {@code max} ASCII digits. By hand, not String.matches: read
     * as a boot ends, and a JVM's first regex with a character class links lambdas (~2 ms there
     * on a lent 16-core machine, more under the lab's TCG).
     */
    private static boolean digits(String s, int from, int to, int max) {
        if (to - from < 1 || to - from > max) {
            return false;
        }
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /**
     * The kernel's start time of this process on the monotonic clock: field 22 of
     * /proc/self/stat (ticks since boot) against /proc/uptime, both in CLOCK_BOOTTIME, which
     * equals CLOCK_MONOTONIC on a machine that has not been suspended. -1 when unreadable.
     */
    static long coarseStartNanos() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String uptime = Files.readString(Path.of("/proc/uptime"));
            long now = System.nanoTime();
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
            long startTicks = Long.parseLong(f[19]); // field 22 overall; fields after the name start at 3
            double up = Double.parseDouble(uptime.split(" ")[0]);
            long sinceStart = (long) (up * 1e9) - startTicks * 10_000_000L; // USER_HZ is 100 on Linux
            return sinceStart >= 0 ? now - sinceStart : -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
