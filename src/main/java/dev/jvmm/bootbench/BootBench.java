package dev.jvmm.bootbench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The benchmark's loop: round after round, one boot of jvmm and then one of each VMM compared,
 * each a fresh process, so a drift in the machine's speed (TCG in the lab, other work on a host)
 * falls on all alike. Warm-up rounds come first and are marked as such. Each run is handed to
 * {@code onRun} as it ends (progress, or the lab's console marker) and returned at the end.
 */
public final class BootBench {
    /** Boots one VMM once: index (1-based among its runs) and whether it is a warm-up. */
    @FunctionalInterface
    public interface Runner {
        BootRun run(int index, boolean warmup) throws IOException, InterruptedException;
    }

    private BootBench() {}

    /**
     * Runs {@code spec}: jvmm from {@code jar}, and the VMMs of spec.compare() through
     * {@code peers} (by name). A run that fails is kept, with its reason, and the loop goes on.
     */
    public static List<BootRun> run(BenchSpec spec, Path jar, Path workDir, Map<String, Runner> peers,
                                    Consumer<BootRun> onRun) throws IOException, InterruptedException {
        for (String c : spec.compare()) {
            if (!peers.containsKey(c)) {
                throw new IllegalArgumentException("no way to run " + c + " here");
            }
        }
        JvmmChild jvmm = JvmmChild.here(jar);
        if (jvmm.trainsNext()) {
            // The lab's first run of this jar: one boot records its classes (not counted at all).
            JvmmBootRun.run(spec, jvmm, workDir, 0, true);
            jvmm.dumpArchive(workDir, System.err);
        }
        List<BootRun> runs = new ArrayList<>();
        for (int round = 1; round <= spec.warmup() + spec.runs(); round++) {
            boolean warmup = round <= spec.warmup();
            add(runs, JvmmBootRun.run(spec, jvmm, workDir, round, warmup), onRun);
            for (String c : spec.compare()) {
                add(runs, peers.get(c).run(round, warmup), onRun);
            }
        }
        return runs;
    }

    private static void add(List<BootRun> runs, BootRun r, Consumer<BootRun> onRun) {
        runs.add(r);
        onRun.accept(r);
    }
}
