package dev.jvmm.smoke;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs the smoke boots, at most {@code parallel} at once, printing one line per image as it
 * finishes and a summary; results come back in the order the images were given.
 */
public final class Smoke {
    /** Boots at once at most: each is a jvmm process (and in the lab an L1 of its own). */
    public static final int MAX_PARALLEL = 16;

    private Smoke() {}

    public record Report(List<SmokeResult> results, long wallMs) {
        public boolean allPassed() {
            return results.stream().allMatch(SmokeResult::passed);
        }
    }

    public static Report run(List<Path> images, int parallel, SmokePlan plan, PrintStream out)
            throws InterruptedException {
        if (parallel < 1 || parallel > MAX_PARALLEL) {
            throw new IllegalArgumentException("--parallel must be between 1 and " + MAX_PARALLEL + ", not " + parallel);
        }
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(parallel, r -> {
            Thread t = new Thread(r, "smoke-boot");
            t.setDaemon(true);
            return t;
        });
        try {
            CompletionService<SmokeResult> done = new ExecutorCompletionService<>(pool);
            List<Future<SmokeResult>> futures = new ArrayList<>();
            for (Path image : images) {
                futures.add(done.submit(() -> SmokeBoot.run(image, plan)));
            }
            for (int i = 0; i < images.size(); i++) {
                try {
                    out.println("smoke: " + done.take().get().line());
                } catch (ExecutionException e) {
                    out.println("smoke: a boot failed to run: " + e.getCause());
                }
            }
            List<SmokeResult> results = new ArrayList<>();
            for (int i = 0; i < futures.size(); i++) {
                try {
                    results.add(futures.get(i).get());
                } catch (ExecutionException e) {
                    results.add(new SmokeResult(images.get(i).getFileName().toString(), false, String.valueOf(e.getCause()),
                            null, null, null, 0, 70, ""));
                }
            }
            long wall = (System.nanoTime() - start) / 1_000_000;
            long passed = results.stream().filter(SmokeResult::passed).count();
            out.printf("smoke: %d passed, %d failed in %.1f s (--parallel %d)%n", passed, results.size() - passed,
                    wall / 1000.0, parallel);
            return new Report(results, wall);
        } finally {
            pool.shutdownNow();
        }
    }

    public static void writeJunit(Report r, Path file) throws IOException {
        SmokeReport.junit(r.results(), r.wallMs(), file);
    }

    public static void writeJson(Report r, Path file) throws IOException {
        SmokeReport.json(r.results(), r.wallMs(), file);
    }
}
