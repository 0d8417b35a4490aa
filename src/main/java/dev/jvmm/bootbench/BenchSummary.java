package dev.jvmm.bootbench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * What a set of measured boots says: per VMM, the statistics of every phase over the runs that
 * count (not warm-ups, not failed), the guest's own clock beside the host's, memory, the failed
 * runs with their reasons; and jvmm against its baselines (QEMU, the C floor) as ratios of
 * medians for the two figures the project's goals name. One computation feeds the terminal
 * table, the JSON summary and the plot, so they cannot disagree.
 *
 * @param vmms   one entry per VMM, jvmm first, then qemu, floor, then any other in order of appearance
 * @param ratios jvmm/baseline for time to ready and VMM overhead, where both sides have data
 */
public record BenchSummary(List<VmmStats> vmms, List<Ratio> ratios) {
    public static final String JVMM = "jvmm";
    public static final String QEMU = "qemu";
    public static final String FLOOR = "floor";
    /** Time to ready: process start to the guest reporting ready. */
    public static final Phase TIME_TO_READY = Phase.READY;
    /** VMM overhead: process start to the first KVM_RUN, the time the VMM itself costs before the guest runs. */
    public static final Phase VMM_OVERHEAD = Phase.FIRST_KVM_RUN;
    /** The goals for time to ready: at most 1.0× QEMU's and 1.2× the C floor's. */
    public static final Map<String, Double> READY_GOALS = Map.of(QEMU, 1.0, FLOOR, 1.2);

    public BenchSummary {
        vmms = List.copyOf(vmms);
        ratios = List.copyOf(ratios);
    }

    /**
     * One VMM's runs.
     *
     * @param runs     all runs, warm-ups and failures included
     * @param counted  runs in the statistics: not warm-up, ok
     * @param phases   statistics of each phase reached by at least one counted run, in phase order
     * @param peakRssKib  the VMM process's peak resident set
     * @param overheadKib peak RSS minus the guest's touched memory
     */
    public record VmmStats(String vmm, int runs, int warmups, int counted, List<FailedRun> failures,
                           Map<Phase, Stats> phases, Stats guestRunInitMs, Stats guestUptimeAtReadyMs,
                           Stats peakRssKib, Stats guestTouchedKib, Stats overheadKib) {
        public VmmStats {
            failures = List.copyOf(failures);
            EnumMap<Phase, Stats> copy = new EnumMap<>(Phase.class);
            copy.putAll(phases);
            phases = Collections.unmodifiableMap(copy);
        }

        /** Statistics of {@code phase}, empty when no counted run reached it. */
        public Stats phase(Phase phase) {
            return phases.getOrDefault(phase, Stats.EMPTY);
        }

        public Stats timeToReady() {
            return phase(TIME_TO_READY);
        }

        public Stats vmmOverhead() {
            return phase(VMM_OVERHEAD);
        }
    }

    /** A run left out of the statistics because it failed. */
    public record FailedRun(int index, boolean warmup, int exitStatus, String reason) {}

    /**
     * {@code vmm}'s median over {@code baseline}'s for one figure.
     *
     * @param metric "time to ready" or "VMM overhead"
     * @param goal   the most the ratio may be, where the project sets a goal, else null
     */
    public record Ratio(String metric, Phase phase, String vmm, String baseline, double vmmP50Ms,
                        double baselineP50Ms, Double goal) {
        public double ratio() {
            return vmmP50Ms / baselineP50Ms;
        }

        /** Whether the goal holds, or null when there is none. */
        public Boolean goalMet() {
            return goal == null ? null : ratio() <= goal;
        }
    }

    public static BenchSummary of(Collection<BootRun> runs) {
        Map<String, List<BootRun>> byVmm = new LinkedHashMap<>();
        for (String known : List.of(JVMM, QEMU, FLOOR)) {
            byVmm.put(known, new ArrayList<>());
        }
        for (BootRun run : runs) {
            byVmm.computeIfAbsent(run.vmm(), k -> new ArrayList<>()).add(run);
        }
        List<VmmStats> vmms = new ArrayList<>();
        byVmm.forEach((vmm, list) -> {
            if (!list.isEmpty()) {
                vmms.add(statsOf(vmm, list));
            }
        });
        return new BenchSummary(vmms, ratios(vmms));
    }

    public Optional<VmmStats> vmm(String name) {
        return vmms.stream().filter(v -> v.vmm().equals(name)).findFirst();
    }

    /** The summary as the terminal shows it, lines of at most 100 columns. */
    public String render() {
        return SummaryText.render(this);
    }

    private static VmmStats statsOf(String vmm, List<BootRun> runs) {
        List<BootRun> counted = runs.stream().filter(r -> !r.warmup() && r.ok()).toList();
        List<FailedRun> failures = runs.stream().filter(r -> !r.ok())
                .map(r -> new FailedRun(r.index(), r.warmup(), r.exitStatus(), r.failure())).toList();
        Map<Phase, Stats> phases = new EnumMap<>(Phase.class);
        for (Phase p : Phase.values()) {
            Stats s = over(counted, r -> r.at(p));
            if (!s.isEmpty()) {
                phases.put(p, s);
            }
        }
        int warmups = (int) runs.stream().filter(BootRun::warmup).count();
        return new VmmStats(vmm, runs.size(), warmups, counted.size(), failures, phases,
                over(counted, BootRun::guestRunInitMs), over(counted, BootRun::guestUptimeAtReadyMs),
                over(counted, BootRun::peakRssKib), over(counted, BootRun::guestTouchedKib),
                over(counted, BootRun::overheadKib));
    }

    private static Stats over(List<BootRun> runs, Function<BootRun, ? extends Number> value) {
        return Stats.of(runs.stream().map(value).filter(Objects::nonNull).map(Number::doubleValue).toList());
    }

    private static List<Ratio> ratios(List<VmmStats> vmms) {
        List<Ratio> ratios = new ArrayList<>();
        VmmStats jvmm = vmms.stream().filter(v -> v.vmm().equals(JVMM)).findFirst().orElse(null);
        if (jvmm == null) {
            return ratios;
        }
        List<VmmStats> baselines = vmms.stream().filter(v -> v.vmm().equals(QEMU) || v.vmm().equals(FLOOR)).toList();
        for (VmmStats base : baselines) {
            ratio("time to ready", TIME_TO_READY, jvmm, base, READY_GOALS.get(base.vmm())).ifPresent(ratios::add);
        }
        for (VmmStats base : baselines) {
            ratio("VMM overhead", VMM_OVERHEAD, jvmm, base, null).ifPresent(ratios::add);
        }
        return ratios;
    }

    private static Optional<Ratio> ratio(String metric, Phase phase, VmmStats vmm, VmmStats base, Double goal) {
        Stats a = vmm.phase(phase);
        Stats b = base.phase(phase);
        if (a.isEmpty() || b.isEmpty() || b.p50() <= 0) {
            return Optional.empty();
        }
        return Optional.of(new Ratio(metric, phase, vmm.vmm(), base.vmm(), a.p50(), b.p50(), goal));
    }

    /** The "summary" object of the JSON report (bench-boot.schema.json). */
    Map<String, Object> toJson() {
        Map<String, Object> byVmm = new LinkedHashMap<>();
        for (VmmStats v : vmms) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("runs", v.runs());
            m.put("warmups", v.warmups());
            m.put("counted", v.counted());
            m.put("failed", v.failures().size());
            m.put("failures", v.failures().stream().map(f -> {
                Map<String, Object> fm = new LinkedHashMap<>();
                fm.put("index", f.index());
                fm.put("warmup", f.warmup());
                fm.put("exit_status", f.exitStatus());
                fm.put("reason", f.reason());
                return fm;
            }).toList());
            Map<String, Object> phases = new LinkedHashMap<>();
            v.phases().forEach((p, s) -> phases.put(p.key, s.toJson()));
            m.put("phases", phases);
            m.put("time_to_ready_ms", v.timeToReady().toJson());
            m.put("vmm_overhead_ms", v.vmmOverhead().toJson());
            Map<String, Object> guest = new LinkedHashMap<>();
            guest.put("run_init_ms", v.guestRunInitMs().toJson());
            guest.put("uptime_at_ready_ms", v.guestUptimeAtReadyMs().toJson());
            m.put("guest", guest);
            Map<String, Object> memory = new LinkedHashMap<>();
            memory.put("peak_rss_kib", v.peakRssKib().toJson());
            memory.put("guest_touched_kib", v.guestTouchedKib().toJson());
            memory.put("overhead_kib", v.overheadKib().toJson());
            m.put("memory", memory);
            byVmm.put(v.vmm(), m);
        }
        List<Map<String, Object>> ratioList = new ArrayList<>();
        for (Ratio r : ratios) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("metric", r.metric());
            m.put("phase", r.phase().key);
            m.put("vmm", r.vmm());
            m.put("baseline", r.baseline());
            m.put("vmm_p50_ms", r.vmmP50Ms());
            m.put("baseline_p50_ms", r.baselineP50Ms());
            m.put("ratio", r.ratio());
            m.put("goal", r.goal());
            m.put("goal_met", r.goalMet());
            ratioList.add(m);
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("vmms", byVmm);
        doc.put("ratios", ratioList);
        return doc;
    }
}
