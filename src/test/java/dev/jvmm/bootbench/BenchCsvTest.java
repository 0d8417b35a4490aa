package dev.jvmm.bootbench;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The --csv file read back with jackson-dataformat-csv: the header, a row per run, every value. */
class BenchCsvTest {
    @TempDir
    Path tmp;

    private static List<List<String>> rows(Path file) throws IOException {
        CsvMapper mapper = new CsvMapper().enable(CsvParser.Feature.WRAP_AS_ARRAY);
        List<List<String>> rows = new ArrayList<>();
        try (MappingIterator<List<String>> it = mapper.readerForListOf(String.class)
                .with(CsvSchema.emptySchema()).readValues(file.toFile())) {
            it.forEachRemaining(rows::add);
        }
        return rows;
    }

    private static String cell(Number n) {
        return n == null ? "" : n.toString();
    }

    @Test
    void everyRunReadsBack() throws IOException {
        List<BootRun> runs = FakeRuns.threeVmms(6, 2, 11);
        Path file = tmp.resolve("bench.csv");
        BenchReport.write(runs, Map.of(), null, file, null);
        List<List<String>> rows = rows(file);
        List<String> header = rows.get(0);
        assertEquals(BenchCsv.columns(), header);
        assertEquals(5 + Phase.values().length + 6, header.size());
        assertEquals("jvm-main", header.get(5));
        assertEquals("exited", header.get(5 + Phase.values().length - 1));
        assertEquals(runs.size() + 1, rows.size());

        CsvMapper mapper = new CsvMapper();
        List<Map<String, String>> records = new ArrayList<>();
        try (MappingIterator<Map<String, String>> it = mapper.readerForMapOf(String.class)
                .with(CsvSchema.emptySchema().withHeader()).readValues(file.toFile())) {
            it.forEachRemaining(records::add);
        }
        for (int i = 0; i < runs.size(); i++) {
            BootRun run = runs.get(i);
            Map<String, String> r = records.get(i);
            assertEquals(run.vmm(), r.get("vmm"));
            assertEquals(Integer.toString(run.index()), r.get("index"));
            assertEquals(Boolean.toString(run.warmup()), r.get("warmup"));
            assertEquals(Boolean.toString(run.ok()), r.get("ok"));
            assertEquals(run.failure() == null ? "" : run.failure(), r.get("failure"));
            for (Phase p : Phase.values()) {
                String c = r.get(p.key);
                if (run.at(p) == null) {
                    assertEquals("", c, run + " " + p);
                } else {
                    assertEquals(run.at(p), Double.parseDouble(c), run + " " + p);
                }
            }
            assertEquals(cell(run.guestRunInitMs()), r.get("guest_run_init_ms"));
            assertEquals(cell(run.guestUptimeAtReadyMs()), r.get("guest_uptime_at_ready_ms"));
            assertEquals(cell(run.peakRssKib()), r.get("peak_rss_kib"));
            assertEquals(cell(run.guestTouchedKib()), r.get("guest_touched_kib"));
            assertEquals(cell(run.overheadKib()), r.get("overhead_kib"));
            assertEquals(Integer.toString(run.exitStatus()), r.get("exit_status"));
        }
        // the failed run's reason holds a comma and quotes: quoted in the file, whole when read
        BootRun failed = runs.stream().filter(r -> !r.ok()).findFirst().orElseThrow();
        assertTrue(failed.failure().contains(",") && failed.failure().contains("\""));
        assertTrue(Files.readString(file).contains("\"no ready marker within 60 s, \"\"timeout\"\"\""));
    }

    @Test
    void noRunsIsAHeader() throws IOException {
        Path file = tmp.resolve("empty.csv");
        BenchCsv.write(List.of(), file);
        assertEquals(List.of(BenchCsv.columns()), rows(file));
    }
}
