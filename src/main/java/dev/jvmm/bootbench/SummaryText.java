package dev.jvmm.bootbench;

import dev.jvmm.bootbench.BenchSummary.FailedRun;
import dev.jvmm.bootbench.BenchSummary.Ratio;
import dev.jvmm.bootbench.BenchSummary.VmmStats;

import java.util.Locale;

/**
 * The summary as a terminal shows it after {@code jvmm bench boot}: one table per VMM (a row per
 * phase, the guest's clock and memory; columns n, min, p50, p90, p99, max), the two headline
 * medians side by side, then jvmm's ratios against QEMU and the floor with the goals. One table
 * per VMM rather than one wide table keeps every line within 100 columns for any number of VMMs.
 */
final class SummaryText {
    private static final int LABEL = 30;
    private static final double KIB_PER_MIB = 1024.0;

    private SummaryText() {}

    static String render(BenchSummary summary) {
        StringBuilder b = new StringBuilder();
        if (summary.vmms().isEmpty()) {
            return "no runs\n";
        }
        for (VmmStats v : summary.vmms()) {
            table(b, v);
            b.append('\n');
        }
        headline(b, summary);
        for (Ratio r : summary.ratios()) {
            b.append(ratioLine(r)).append('\n');
        }
        return b.toString();
    }

    private static void table(StringBuilder b, VmmStats v) {
        b.append(String.format(Locale.ROOT, "%s: %d runs, %d counted, %d warm-up, %d failed%n",
                v.vmm(), v.runs(), v.counted(), v.warmups(), v.failures().size()));
        if (v.counted() > 0) {
            b.append(String.format(Locale.ROOT, "  %-" + LABEL + "s%5s%10s%10s%10s%10s%10s%n",
                    "ms from process start", "n", "min", "p50", "p90", "p99", "max"));
            v.phases().forEach((p, s) -> row(b, p.label, s, 1));
            row(b, "guest clock: Run /init", v.guestRunInitMs(), 1);
            row(b, "guest clock: uptime at ready", v.guestUptimeAtReadyMs(), 1);
            row(b, "peak RSS (MiB)", v.peakRssKib(), KIB_PER_MIB);
            row(b, "RSS - guest touched (MiB)", v.overheadKib(), KIB_PER_MIB);
        } else {
            b.append("  no counted runs\n");
        }
        for (FailedRun f : v.failures()) {
            b.append(String.format(Locale.ROOT, "  failed #%d%s (status %d): %s%n", f.index(),
                    f.warmup() ? " (warm-up)" : "", f.exitStatus(), f.reason()));
        }
    }

    private static void row(StringBuilder b, String label, Stats s, double divisor) {
        if (s.isEmpty()) {
            return;
        }
        b.append(String.format(Locale.ROOT, "  %-" + LABEL + "s%5d%10.1f%10.1f%10.1f%10.1f%10.1f%n", label,
                s.count(), s.min() / divisor, s.p50() / divisor, s.p90() / divisor, s.p99() / divisor,
                s.max() / divisor));
    }

    /** Time to ready and VMM overhead, p50 of each VMM side by side. */
    private static void headline(StringBuilder b, BenchSummary summary) {
        b.append(String.format(Locale.ROOT, "%-" + (LABEL + 2) + "s", "p50 (ms)"));
        for (VmmStats v : summary.vmms()) {
            b.append(String.format(Locale.ROOT, "%10s", v.vmm()));
        }
        b.append('\n');
        headlineRow(b, summary, "time to ready", BenchSummary.TIME_TO_READY);
        headlineRow(b, summary, "VMM overhead (to first KVM_RUN)", BenchSummary.VMM_OVERHEAD);
    }

    private static void headlineRow(StringBuilder b, BenchSummary summary, String label, Phase phase) {
        b.append(String.format(Locale.ROOT, "%-" + (LABEL + 2) + "s", label));
        for (VmmStats v : summary.vmms()) {
            Stats s = v.phase(phase);
            b.append(s.isEmpty() ? String.format("%10s", "-") : String.format(Locale.ROOT, "%10.1f", s.p50()));
        }
        b.append('\n');
    }

    /** {@code time to ready: jvmm/qemu 0.93x (p50 8123 ms vs 8731 ms), goal <= 1.00x: met}. */
    static String ratioLine(Ratio r) {
        String line = String.format(Locale.ROOT, "%s: %s/%s %.2fx (p50 %s ms vs %s ms)", r.metric(), r.vmm(),
                r.baseline(), r.ratio(), ms(r.vmmP50Ms()), ms(r.baselineP50Ms()));
        if (r.goal() != null) {
            line += String.format(Locale.ROOT, ", goal <= %.2fx: %s", r.goal(), r.goalMet() ? "met" : "NOT met");
        }
        return line;
    }

    /** Whole milliseconds where a tenth is noise, a tenth where it is not. */
    private static String ms(double v) {
        return String.format(Locale.ROOT, Math.abs(v) >= 100 ? "%.0f" : "%.1f", v);
    }
}
