package dev.jvmm.bootbench;

import dev.jvmm.bootbench.BenchSummary.FailedRun;
import dev.jvmm.bootbench.BenchSummary.Ratio;
import dev.jvmm.bootbench.BenchSummary.VmmStats;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;

import static dev.jvmm.bootbench.FakeRuns.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What counts, per VMM and phase; memory; the ratios and their goals; the terminal text. */
class BenchSummaryTest {
    private static final double EPS = 1e-9;

    /** Small enough to check by hand: jvmm ready 100/200/300, qemu 250/250, floor 150 (no first KVM_RUN). */
    static List<BootRun> handMade() {
        List<BootRun> runs = new ArrayList<>();
        runs.add(run("qemu", 1, false, null, Phase.FIRST_KVM_RUN, 4, Phase.READY, 250));
        runs.add(run("jvmm", 1, true, null, Phase.FIRST_KVM_RUN, 90, Phase.READY, 1000));
        runs.add(run("jvmm", 2, false, null, Phase.JVM_MAIN, 5, Phase.FIRST_KVM_RUN, 10, Phase.READY, 100));
        runs.add(run("jvmm", 3, false, null, Phase.JVM_MAIN, 7, Phase.FIRST_KVM_RUN, 20, Phase.READY, 300));
        runs.add(run("jvmm", 4, false, "no ready marker within 60 s", Phase.FIRST_KVM_RUN, 15, Phase.READY, 5000));
        runs.add(run("jvmm", 5, false, null, Phase.FIRST_KVM_RUN, 30, Phase.READY, 200));
        runs.add(run("qemu", 2, false, null, Phase.FIRST_KVM_RUN, 6, Phase.READY, 250));
        runs.add(run("floor", 1, false, null, Phase.READY, 150));
        return runs;
    }

    @Test
    void onlyCountedRunsMakeTheStatistics() {
        BenchSummary s = BenchSummary.of(handMade());
        assertEquals(List.of("jvmm", "qemu", "floor"), s.vmms().stream().map(VmmStats::vmm).toList());
        VmmStats jvmm = s.vmm("jvmm").orElseThrow();
        assertEquals(5, jvmm.runs());
        assertEquals(1, jvmm.warmups());
        assertEquals(3, jvmm.counted());
        Stats ready = jvmm.timeToReady();
        assertEquals(3, ready.count());
        assertEquals(100, ready.min(), EPS);
        assertEquals(200, ready.p50(), EPS);
        assertEquals(300, ready.max(), EPS);
        assertEquals(20, jvmm.vmmOverhead().p50(), EPS);
        // jvm-main: two of the three counted runs reached it
        assertEquals(2, jvmm.phase(Phase.JVM_MAIN).count());
        assertEquals(6, jvmm.phase(Phase.JVM_MAIN).p50(), EPS);
        assertTrue(jvmm.phase(Phase.PARSED).isEmpty());
        assertFalse(jvmm.phases().containsKey(Phase.PARSED));
        assertEquals(List.of(new FailedRun(4, false, 1, "no ready marker within 60 s")), jvmm.failures());
    }

    @Test
    void ratiosOfMediansWithTheGoals() {
        BenchSummary s = BenchSummary.of(handMade());
        // Time to ready first: jvmm p50 200, qemu 250 -> 0.8 (goal 1.0 met); floor 150 -> 1.333 (goal 1.2
        // not met). Then VMM overhead: 20 vs qemu's 5 -> 4.0; the floor has no first KVM_RUN, so no ratio.
        assertEquals(3, s.ratios().size(), s.ratios().toString());
        Ratio qemuReady = s.ratios().get(0);
        assertEquals("time to ready", qemuReady.metric());
        assertEquals("qemu", qemuReady.baseline());
        assertEquals(0.8, qemuReady.ratio(), EPS);
        assertEquals(1.0, qemuReady.goal());
        assertTrue(qemuReady.goalMet());
        Ratio qemuOverhead = s.ratios().get(2);
        assertEquals("VMM overhead", qemuOverhead.metric());
        assertEquals(Phase.FIRST_KVM_RUN, qemuOverhead.phase());
        assertEquals(4.0, qemuOverhead.ratio(), EPS);
        assertNull(qemuOverhead.goal());
        assertNull(qemuOverhead.goalMet());
        Ratio floorReady = s.ratios().get(1);
        assertEquals("floor", floorReady.baseline());
        assertEquals(200.0 / 150.0, floorReady.ratio(), EPS);
        assertEquals(1.2, floorReady.goal());
        assertFalse(floorReady.goalMet());
    }

    @Test
    void noBaselineNoRatio() {
        BenchSummary jvmmOnly = BenchSummary.of(handMade().stream().filter(r -> r.vmm().equals("jvmm")).toList());
        assertTrue(jvmmOnly.ratios().isEmpty());
        BenchSummary noJvmm = BenchSummary.of(handMade().stream().filter(r -> !r.vmm().equals("jvmm")).toList());
        assertTrue(noJvmm.ratios().isEmpty());
        assertTrue(BenchSummary.of(List.of()).vmms().isEmpty());
        assertEquals("no runs\n", BenchSummary.of(List.of()).render());
    }

    @Test
    void memoryAndTheGuestClock() {
        List<BootRun> runs = List.of(
                new BootRun("jvmm", 1, false, FakeRuns.profile(Phase.READY, 800), 400.0, 560.0, 180_000L, 90_000L, 0, null),
                new BootRun("jvmm", 2, false, FakeRuns.profile(Phase.READY, 900), 420.0, 600.0, 184_000L, 92_000L, 0, null),
                new BootRun("jvmm", 3, false, FakeRuns.profile(Phase.READY, 850), null, null, null, 91_000L, 0, null));
        VmmStats v = BenchSummary.of(runs).vmm("jvmm").orElseThrow();
        assertEquals(2, v.peakRssKib().count());
        assertEquals(182_000, v.peakRssKib().p50(), EPS);
        // overhead = RSS − touched: 90 000 and 92 000; run 3 has no RSS, so no overhead
        assertEquals(2, v.overheadKib().count());
        assertEquals(90_000, v.overheadKib().min(), EPS);
        assertEquals(92_000, v.overheadKib().max(), EPS);
        assertEquals(3, v.guestTouchedKib().count());
        assertEquals(410, v.guestRunInitMs().p50(), EPS);
        assertEquals(580, v.guestUptimeAtReadyMs().p50(), EPS);
    }

    @Test
    void textHasTheTablesTheRatiosAndTheFailures() {
        String text = BenchSummary.of(handMade()).render();
        assertTrue(text.contains("jvmm: 5 runs, 3 counted, 1 warm-up, 1 failed"), text);
        assertTrue(text.contains("time to ready: jvmm/qemu 0.80x (p50 200 ms vs 250 ms), goal <= 1.00x: met"), text);
        assertTrue(text.contains("time to ready: jvmm/floor 1.33x (p50 200 ms vs 150 ms), goal <= 1.20x: NOT met"), text);
        assertTrue(text.contains("VMM overhead: jvmm/qemu 4.00x (p50 20.0 ms vs 5.0 ms)"), text);
        assertTrue(text.contains("failed #4 (status 1): no ready marker within 60 s"), text);
        String readyRow = text.lines().filter(l -> l.trim().startsWith(Phase.READY.label)).findFirst().orElseThrow();
        // [100, 200, 300]: p90 h = 1.8 -> 200 + 0.8·100 = 280; p99 h = 1.98 -> 298
        assertEquals(List.of("guest", "ready", "3", "100.0", "200.0", "280.0", "298.0", "300.0"),
                List.of(readyRow.trim().split("\\s+")));
    }

    @Test
    void everyLineFitsInAHundredColumns() {
        List<BootRun> runs = new ArrayList<>(FakeRuns.threeVmms(20, 2, 7));
        EnumMap<Phase, Double> all = new EnumMap<>(Phase.class);
        for (Phase p : Phase.values()) {
            all.put(p, 123_456.789 + p.ordinal());
        }
        runs.add(new BootRun("a-longer-vmm-name", 1, false, all, 99_999.9, 99_999.9, 9_999_999L, 1L, 0, null));
        String text = BenchSummary.of(runs).render();
        text.lines().forEach(l -> assertTrue(l.length() <= 100, l.length() + ": " + l));
        for (Phase p : Phase.values()) {
            assertTrue(text.contains(p.label), p.label);
        }
    }
}
