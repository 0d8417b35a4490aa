package dev.jvmm.bootbench;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code jvmm bench boot --json}: every run (warm-ups and failures included) with the summary,
 * under a schema name a reader can check ({@value #SCHEMA}; the JSON Schema is the resource
 * {@code bench-boot.schema.json} beside this class). Runs go through a record of their own so the
 * file's field names are a contract of this class, not whatever BootRun's components are called;
 * the same record reads a report back, so a saved run can be summarized or plotted again.
 */
public final class BenchJson {
    public static final String SCHEMA = "jvmm-bench-boot/1";
    /** The JSON Schema of the report, a resource beside this class. */
    public static final String SCHEMA_RESOURCE = "bench-boot.schema.json";

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    private BenchJson() {}

    /** A report read back: its environment and its runs. */
    public record Document(Map<String, String> environment, List<BootRun> runs) {}

    /** One run as the file holds it; {@code ok} and {@code overhead_kib} are derived, written for readers (jq). */
    @JsonPropertyOrder({"vmm", "index", "warmup", "ok", "failure", "phases", "guest_run_init_ms",
            "guest_uptime_at_ready_ms", "peak_rss_kib", "guest_touched_kib", "overhead_kib", "exit_status"})
    record RunJson(@JsonProperty("vmm") String vmm,
                   @JsonProperty("index") int index,
                   @JsonProperty("warmup") boolean warmup,
                   @JsonProperty("ok") boolean ok,
                   @JsonProperty("failure") String failure,
                   @JsonProperty("phases") Map<String, Double> phases,
                   @JsonProperty("guest_run_init_ms") Double guestRunInitMs,
                   @JsonProperty("guest_uptime_at_ready_ms") Double guestUptimeAtReadyMs,
                   @JsonProperty("peak_rss_kib") Long peakRssKib,
                   @JsonProperty("guest_touched_kib") Long guestTouchedKib,
                   @JsonProperty("overhead_kib") Long overheadKib,
                   @JsonProperty("exit_status") int exitStatus) {
        static RunJson of(BootRun r) {
            Map<String, Double> phases = new LinkedHashMap<>();
            r.phases().forEach((p, ms) -> phases.put(p.key, ms));
            return new RunJson(r.vmm(), r.index(), r.warmup(), r.ok(), r.failure(), phases, r.guestRunInitMs(),
                    r.guestUptimeAtReadyMs(), r.peakRssKib(), r.guestTouchedKib(), r.overheadKib(), r.exitStatus());
        }

        BootRun toBootRun() {
            if (vmm == null || vmm.isEmpty()) {
                throw new IllegalArgumentException("a run without a vmm");
            }
            if (phases == null) {
                throw new IllegalArgumentException(vmm + " #" + index + ": no phases");
            }
            Map<Phase, Double> byPhase = new EnumMap<>(Phase.class);
            phases.forEach((key, ms) -> {
                Phase p = Phase.ofKey(key).orElseThrow(
                        () -> new IllegalArgumentException(vmm + " #" + index + ": unknown phase \"" + key + "\""));
                if (ms == null) {
                    throw new IllegalArgumentException(vmm + " #" + index + ": phase " + key + " has no value");
                }
                byPhase.put(p, ms);
            });
            return new BootRun(vmm, index, warmup, byPhase, guestRunInitMs, guestUptimeAtReadyMs, peakRssKib,
                    guestTouchedKib, exitStatus, failure);
        }
    }

    /** The whole report as a JSON tree: schema, environment (null values left out), runs, summary. */
    public static ObjectNode document(List<BootRun> runs, Map<String, String> environment, BenchSummary summary) {
        ObjectNode doc = MAPPER.createObjectNode();
        doc.put("schema", SCHEMA);
        ObjectNode env = doc.putObject("environment");
        environment.forEach((k, v) -> {
            if (v != null) {
                env.put(k, v);
            }
        });
        doc.set("runs", MAPPER.valueToTree(runs.stream().map(RunJson::of).toList()));
        doc.set("summary", MAPPER.valueToTree(summary.toJson()));
        return doc;
    }

    public static void write(List<BootRun> runs, Map<String, String> environment, BenchSummary summary, Path file)
            throws IOException {
        MAPPER.writeValue(file.toFile(), document(runs, environment, summary));
    }

    /** One run on one line (no indentation): how the lab's inner benchmark hands each run out. */
    public static String runLine(BootRun run) {
        try {
            return MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(RunJson.of(run));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a BootRun that Jackson cannot write: " + e.getOriginalMessage(), e);
        }
    }

    /** A run from {@link #runLine}; IllegalArgumentException naming what is wrong. */
    public static BootRun parseRun(String line) {
        try {
            return MAPPER.readValue(line, RunJson.class).toBootRun();
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not a bench run: " + oneLine(e), e);
        }
    }

    /** Reads a report back; a file that is not one gives an IOException naming the file and what is wrong. */
    public static Document read(Path file) throws IOException {
        try {
            return fromTree(MAPPER.readTree(Files.readString(file)));
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new IOException(file + ": not a readable " + SCHEMA + " report: " + oneLine(e), e);
        }
    }

    static Document fromTree(JsonNode doc) throws JsonProcessingException {
        if (doc == null || !doc.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        String schema = doc.path("schema").asText(null);
        if (!SCHEMA.equals(schema)) {
            throw new IllegalArgumentException("schema is " + schema + ", expected " + SCHEMA);
        }
        Map<String, String> environment = new LinkedHashMap<>();
        doc.path("environment").fields().forEachRemaining(e -> environment.put(e.getKey(), e.getValue().asText()));
        JsonNode runs = doc.get("runs");
        if (runs == null || !runs.isArray()) {
            throw new IllegalArgumentException("no \"runs\" array");
        }
        List<BootRun> parsed = new ArrayList<>();
        for (JsonNode run : runs) {
            parsed.add(MAPPER.treeToValue(run, RunJson.class).toBootRun());
        }
        return new Document(environment, parsed);
    }

    private static String oneLine(Exception e) {
        String m = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
    }
}
