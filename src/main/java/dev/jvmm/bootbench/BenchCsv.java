package dev.jvmm.bootbench;

import com.fasterxml.jackson.databind.SequenceWriter;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code jvmm bench boot --csv}: one row per run, warm-ups and failures included, for
 * spreadsheets and R/pandas. A column per phase key in the order a boot passes them (an empty
 * cell where the run has no such phase), so the header is the same whichever VMMs ran. Written
 * with jackson-dataformat-csv, which quotes what a failure reason may hold (commas, quotes).
 */
public final class BenchCsv {
    private BenchCsv() {}

    /** The header, in order. */
    public static List<String> columns() {
        List<String> columns = new ArrayList<>(List.of("vmm", "index", "warmup", "ok", "failure"));
        for (Phase p : Phase.values()) {
            columns.add(p.key);
        }
        columns.addAll(List.of("guest_run_init_ms", "guest_uptime_at_ready_ms", "peak_rss_kib", "guest_touched_kib",
                "overhead_kib", "exit_status"));
        return columns;
    }

    public static void write(List<BootRun> runs, Path file) throws IOException {
        CsvSchema.Builder schema = CsvSchema.builder().setUseHeader(true);
        columns().forEach(schema::addColumn);
        CsvMapper mapper = new CsvMapper();
        try (SequenceWriter out = mapper.writerFor(Map.class).with(schema.build()).writeValues(file.toFile())) {
            for (BootRun run : runs) {
                out.write(row(run));
            }
        }
    }

    private static Map<String, Object> row(BootRun r) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("vmm", r.vmm());
        row.put("index", r.index());
        row.put("warmup", r.warmup());
        row.put("ok", r.ok());
        row.put("failure", r.failure());
        for (Phase p : Phase.values()) {
            row.put(p.key, r.at(p));
        }
        row.put("guest_run_init_ms", r.guestRunInitMs());
        row.put("guest_uptime_at_ready_ms", r.guestUptimeAtReadyMs());
        row.put("peak_rss_kib", r.peakRssKib());
        row.put("guest_touched_kib", r.guestTouchedKib());
        row.put("overhead_kib", r.overheadKib());
        row.put("exit_status", r.exitStatus());
        return row;
    }
}
