package dev.jvmm.bootbench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The one call {@code jvmm bench boot} makes when its runs are done: the files asked for
 * (--json, --csv, --plot), all from one summary, and that summary for the terminal.
 */
public final class BenchReport {
    private BenchReport() {}

    /**
     * Writes each file that is not null and returns the summary (render it for the terminal).
     *
     * @param runs        every run, warm-ups and failures included, in the order they ran
     * @param environment free-form facts for the JSON report (host, where, kernel, initrd, cmdline, mem, cpus, runs, warmup...)
     */
    public static BenchSummary write(List<BootRun> runs, Map<String, String> environment, Path json, Path csv,
                                     Path svg) throws IOException {
        BenchSummary summary = BenchSummary.of(runs);
        if (json != null) {
            BenchJson.write(runs, environment, summary, json);
        }
        if (csv != null) {
            BenchCsv.write(runs, csv);
        }
        if (svg != null) {
            BenchPlot.write(runs, summary, svg);
        }
        return summary;
    }
}
