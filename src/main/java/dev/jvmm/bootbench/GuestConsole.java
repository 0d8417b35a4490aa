package dev.jvmm.bootbench;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a guest's console says about its own clock: the kernel's printk time on "Run /init as
 * init process", and the bench init's two lines, {@code jvmm-bench: init uptime=S} (its first
 * act) and {@code jvmm-bench: ready uptime=S} (just before it writes the boot timer), S from the
 * guest's /proc/uptime. The same for every VMM, since every VMM boots the same guest.
 */
record GuestConsole(Double runInitGuestMs, Double initUptimeMs, Double readyUptimeMs) {
    public static final String INIT_MARKER = "jvmm-bench: init uptime=";
    public static final String READY_MARKER = "jvmm-bench: ready uptime=";

    private static final Pattern RUN_INIT = Pattern.compile("\\[\\s*(\\d+\\.\\d+)\\]\\s+Run /init as init process");
    private static final Pattern INIT = Pattern.compile(Pattern.quote(INIT_MARKER) + "(\\d+(?:\\.\\d+)?)");
    private static final Pattern READY = Pattern.compile(Pattern.quote(READY_MARKER) + "(\\d+(?:\\.\\d+)?)");

    static GuestConsole read(String console) {
        return new GuestConsole(seconds(RUN_INIT, console), seconds(INIT, console), seconds(READY, console));
    }

    /** The guest's time of its init's start: the kernel's own stamp if it printed one, else the init's. */
    Double runInitOrInitUptimeMs() {
        return runInitGuestMs != null ? runInitGuestMs : initUptimeMs;
    }

    private static Double seconds(Pattern p, String text) {
        Matcher m = p.matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) * 1000 : null;
    }
}
