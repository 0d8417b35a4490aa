package dev.jvmm.bootbench;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * One measured boot of one VMM: its phases (ms from the process start; absent where the VMM has
 * no such phase or the boot never reached it), the guest's own clock, memory, and how it ended.
 *
 * @param vmm                  "jvmm", "qemu" or "floor"
 * @param index                1-based among this VMM's runs (warm-up runs included)
 * @param warmup               a warm-up run: kept in --json/--csv, left out of the statistics
 * @param phases               milestone -> milliseconds since the process started
 * @param guestRunInitMs       the guest kernel's own printk time of "Run /init", or null
 * @param guestUptimeAtReadyMs the guest's uptime when it reported ready (its /proc/uptime), or null
 * @param peakRssKib           the VMM process's peak resident set (VmHWM), or null
 * @param guestTouchedKib      resident guest RAM of that process at the end (the guest's touched memory), or null
 * @param exitStatus           the VMM process's exit status
 * @param failure              why the run does not count (no ready marker, timeout...), or null when it does
 */
public record BootRun(String vmm, int index, boolean warmup, Map<Phase, Double> phases, Double guestRunInitMs,
                      Double guestUptimeAtReadyMs, Long peakRssKib, Long guestTouchedKib, int exitStatus,
                      String failure) {
    public BootRun {
        EnumMap<Phase, Double> copy = new EnumMap<>(Phase.class);
        copy.putAll(phases);
        phases = Collections.unmodifiableMap(copy);
    }

    public boolean ok() {
        return failure == null;
    }

    /** Milliseconds of {@code p}, or null. */
    public Double at(Phase p) {
        return phases.get(p);
    }

    /** Peak RSS minus the guest's touched memory: what the VMM itself costs, or null. */
    public Long overheadKib() {
        return peakRssKib == null || guestTouchedKib == null ? null : peakRssKib - guestTouchedKib;
    }
}
