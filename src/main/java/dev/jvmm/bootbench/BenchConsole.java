package dev.jvmm.bootbench;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a bench boot's console says, line by line as it arrives: the kernel's "Run /init" line with
 * its printk time, and the markers the bench init prints ({@link BenchInit}), with the guest's
 * uptime, from its /proc/uptime, in the init's two. The runners time these lines on arrival, for
 * jvmm as for the peers ({@link RunWatch}).
 */
public final class BenchConsole {
    /** The bench init's first line: {@code jvmm-bench: init uptime=<seconds from /proc/uptime>}. */
    public static final String INIT_MARKER = "jvmm-bench: init uptime=";
    /** The ready line's words: the stub guest ({@link StubGuest}), which has no clock, says only these. */
    public static final String READY_WORDS = "jvmm-bench: ready";
    /** The bench init's ready line: {@code jvmm-bench: ready uptime=<seconds from /proc/uptime>}. */
    public static final String READY_MARKER = READY_WORDS + " uptime=";
    /** Printed after the boot timer and before the exit register: the last moment the VMM surely runs. */
    public static final String STOPPING_MARKER = "jvmm-bench: stopping";
    /** The kernel's line when it starts the initramfs's init (KERN_INFO: absent under "quiet"). */
    public static final String RUN_INIT = "Run /init as init process";

    private static final Pattern PRINTK_TIME = Pattern.compile("^\\[\\s*(\\d+)\\.(\\d{1,9})\\]");
    private static final Pattern READY = Pattern.compile(Pattern.quote(READY_WORDS) + "(?: uptime=(\\d+(?:\\.\\d+)?))?");
    private static final Pattern INIT = Pattern.compile(Pattern.quote(INIT_MARKER) + "(\\d+(?:\\.\\d+)?)");

    private BenchConsole() {}

    /** The printk timestamp at the start of {@code line} ("[    3.945256] ...") in ms, or null. */
    public static Double printkMs(String line) {
        Matcher m = PRINTK_TIME.matcher(stripControl(line));
        if (!m.find()) {
            return null;
        }
        return Long.parseLong(m.group(1)) * 1000.0 + Double.parseDouble("0." + m.group(2)) * 1000.0;
    }

    public static boolean isRunInit(String line) {
        return line.contains(RUN_INIT);
    }

    /** Whether {@code line} is the ready line (with the guest's uptime or, from the stub guest, without). */
    public static boolean isReady(String line) {
        return READY.matcher(stripTrailingControl(line)).find();
    }

    /** The guest's uptime in ms from a ready line, or null when {@code line} is not one or gives none. */
    public static Double readyUptimeMs(String line) {
        Matcher m = READY.matcher(stripTrailingControl(line));
        return m.find() && m.group(1) != null ? Double.parseDouble(m.group(1)) * 1000.0 : null;
    }

    /** The guest's uptime in ms from the init's first line, or null when {@code line} is not one. */
    public static Double initUptimeMs(String line) {
        Matcher m = INIT.matcher(line);
        return m.find() ? Double.parseDouble(m.group(1)) * 1000.0 : null;
    }

    public static boolean isStopping(String line) {
        return line.contains(STOPPING_MARKER);
    }

    /** Drops the carriage return a serial console may end a line with. */
    static String stripTrailingControl(String line) {
        int end = line.length();
        while (end > 0 && (line.charAt(end - 1) == '\r' || line.charAt(end - 1) == '\0')) {
            end--;
        }
        return line.substring(0, end);
    }

    /** Drops carriage returns and leading NULs a serial console may put before a line. */
    static String stripControl(String line) {
        int i = 0;
        while (i < line.length() && (line.charAt(i) == '\r' || line.charAt(i) == '\0')) {
            i++;
        }
        return line.substring(i);
    }
}
