package dev.jvmm.bootbench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The --json report against its JSON Schema (validated by networknt's json-schema-validator,
 * draft 2020-12): real output passes, broken documents fail, and the runs read back equal.
 */
class BenchJsonTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static JsonSchema schema;

    @TempDir
    Path tmp;

    @BeforeAll
    static void loadSchema() throws IOException {
        try (InputStream in = BenchJson.class.getResourceAsStream(BenchJson.SCHEMA_RESOURCE)) {
            assertTrue(in != null, "schema resource missing");
            schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in);
        }
    }

    static Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("host", "test-host");
        env.put("where", "lab");
        env.put("kernel", "/cache/bzImage");
        env.put("cmdline", "console=ttyS0 quiet");
        env.put("mem", "256");
        env.put("cpus", "1");
        env.put("runs", "20");
        env.put("warmup", "2");
        env.put("nothing", null);
        return env;
    }

    private JsonNode written(List<BootRun> runs) throws IOException {
        Path file = tmp.resolve("bench.json");
        BenchReport.write(runs, environment(), file, null, null);
        return MAPPER.readTree(file.toFile());
    }

    @Test
    void realOutputValidates() throws IOException {
        JsonNode doc = written(FakeRuns.threeVmms(20, 2, 42));
        Set<ValidationMessage> errors = schema.validate(doc);
        assertTrue(errors.isEmpty(), errors.toString());
        assertEquals(BenchJson.SCHEMA, doc.get("schema").asText());
        assertEquals(3 * 22, doc.get("runs").size());
        assertEquals("lab", doc.at("/environment/where").asText());
        assertFalse(doc.get("environment").has("nothing"));
        JsonNode failed = doc.at("/summary/vmms/jvmm/failures/0");
        assertEquals(5, failed.get("index").asInt());
        assertEquals(124, failed.get("exit_status").asInt());
        assertEquals(20 - 1, doc.at("/summary/vmms/jvmm/counted").asInt());
        assertEquals(4, doc.at("/summary/ratios").size());
        // the floor never reports "VM stopped": the key is absent from its runs and its summary
        assertFalse(doc.at("/runs/50/phases").has("vm-stopped"));
        assertFalse(doc.at("/summary/vmms/floor/phases").has("vm-stopped"));
    }

    @Test
    void edgeCasesValidateToo() throws IOException {
        // one VMM, a run with no phases at all, empty memory: empty stats are {"count": 0}
        List<BootRun> runs = List.of(FakeRuns.run("jvmm", 1, false, "refused to start"),
                FakeRuns.run("jvmm", 2, true, null, Phase.READY, 900));
        JsonNode doc = written(runs);
        assertTrue(schema.validate(doc).isEmpty(), schema.validate(doc).toString());
        assertEquals(0, doc.at("/summary/vmms/jvmm/time_to_ready_ms/count").asInt());
        assertEquals(1, doc.at("/summary/vmms/jvmm/time_to_ready_ms").size());
        assertTrue(schema.validate(written(List.of())).isEmpty());
    }

    @Test
    void schemaKnowsEveryPhaseAndNoOther() throws IOException {
        JsonNode schemaDoc;
        try (InputStream in = BenchJson.class.getResourceAsStream(BenchJson.SCHEMA_RESOURCE)) {
            schemaDoc = MAPPER.readTree(in);
        }
        List<String> keys = new ArrayList<>();
        schemaDoc.at("/$defs/phaseKey/enum").forEach(k -> keys.add(k.asText()));
        assertEquals(Arrays.stream(Phase.values()).map(p -> p.key).toList(), keys);
    }

    private void assertRejected(Consumer<ObjectNode> breakIt, String expectedInMessage) throws IOException {
        ObjectNode doc = (ObjectNode) written(FakeRuns.threeVmms(5, 1, 3));
        breakIt.accept(doc);
        Set<ValidationMessage> errors = schema.validate(doc);
        assertFalse(errors.isEmpty(), "accepted: " + doc);
        assertTrue(errors.toString().contains(expectedInMessage), errors.toString());
    }

    private static ObjectNode firstRun(ObjectNode doc) {
        return (ObjectNode) doc.get("runs").get(0);
    }

    @Test
    void invalidDocumentsAreRejected() throws IOException {
        assertRejected(d -> d.remove("schema"), "schema");
        assertRejected(d -> d.put("schema", "jvmm-bench-boot/2"), "schema");
        assertRejected(d -> firstRun(d).remove("vmm"), "vmm");
        assertRejected(d -> firstRun(d).put("index", "one"), "index");
        assertRejected(d -> firstRun(d).put("warmup", "no"), "warmup");
        assertRejected(d -> ((ObjectNode) firstRun(d).get("phases")).put("ready", "fast"), "ready");
        assertRejected(d -> ((ObjectNode) firstRun(d).get("phases")).put("teleported", 1.0), "teleported");
        assertRejected(d -> firstRun(d).put("failure", "ok but failed?"), "failure");
        assertRejected(d -> ((ObjectNode) d.get("environment")).put("mem", 256), "mem");
        assertRejected(d -> ((ObjectNode) d.at("/summary/vmms/qemu/phases/ready")).remove("p50"), "p50");
        assertRejected(d -> ((ObjectNode) d.at("/summary/ratios/0")).put("ratio", "0.9"), "ratio");
        assertRejected(d -> ((ArrayNode) d.get("runs")).add("a string"), "runs");
    }

    @Test
    void runsReadBackEqual() throws IOException {
        List<BootRun> runs = FakeRuns.threeVmms(10, 2, 5);
        Path file = tmp.resolve("bench.json");
        BenchReport.write(runs, environment(), file, null, null);
        BenchJson.Document back = BenchJson.read(file);
        assertEquals(runs, back.runs());
        Map<String, String> env = new LinkedHashMap<>(environment());
        env.remove("nothing");
        assertEquals(env, back.environment());
        assertEquals(BenchSummary.of(runs), BenchSummary.of(back.runs()));
    }

    @Test
    void runLinesReadBackEqual() {
        for (BootRun r : FakeRuns.threeVmms(6, 1, 11)) {
            String line = BenchJson.runLine(r);
            assertFalse(line.contains("\n"), "one line, for a console marker");
            assertEquals(r, BenchJson.parseRun(line));
        }
        assertThrows(IllegalArgumentException.class, () -> BenchJson.parseRun("{\"vmm\": 3"));
    }

    @Test
    void unreadableReportsSayWhy() throws IOException {
        Path file = tmp.resolve("bad.json");
        Files.writeString(file, "{\"schema\": \"something-else\", \"runs\": []}");
        IOException e = assertThrows(IOException.class, () -> BenchJson.read(file));
        assertTrue(e.getMessage().contains("schema is something-else"), e.getMessage());

        ObjectNode doc = (ObjectNode) written(FakeRuns.threeVmms(2, 0, 1));
        firstRun(doc).remove("exit_status");
        Files.writeString(file, doc.toString());
        e = assertThrows(IOException.class, () -> BenchJson.read(file));
        assertTrue(e.getMessage().contains("exit_status"), e.getMessage());

        ((ObjectNode) firstRun(doc).put("exit_status", 0).get("phases")).put("teleported", 3.0);
        Files.writeString(file, doc.toString());
        e = assertThrows(IOException.class, () -> BenchJson.read(file));
        assertTrue(e.getMessage().contains("unknown phase \"teleported\""), e.getMessage());

        Files.writeString(file, "{not json");
        e = assertThrows(IOException.class, () -> BenchJson.read(file));
        assertTrue(e.getMessage().startsWith(file + ": not a readable"), e.getMessage());
    }
}
