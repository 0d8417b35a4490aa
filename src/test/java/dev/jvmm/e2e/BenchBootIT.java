package dev.jvmm.e2e;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import dev.jvmm.bootbench.BenchJson;
import dev.jvmm.bootbench.BootRun;
import dev.jvmm.bootbench.Phase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * jvmm bench boot end to end: jvmm, QEMU microvm and the C floor boot jvmm's kernel with the bench
 * init, interleaved, in ONE lab L1 (or on the host's hardware KVM); every run reaches ready with
 * its phases in boot order, the summary gives the ratios, and the three reports read back: the
 * JSON against its schema, the CSV row by row, the SVG as XML.
 */
class BenchBootIT {
    @TempDir
    Path tmp;

    @Test
    void jvmmQemuAndTheFloorAreMeasuredInOneLab() throws Exception {
        Path json = tmp.resolve("bench.json");
        Path csv = tmp.resolve("bench.csv");
        Path svg = tmp.resolve("bench.svg");
        Jvmm.Result r = Jvmm.run(1500, "bench", "boot", "--runs", "1", "--warmup", "0", "--compare", "qemu,floor",
                "--timeout", "300", "--json", json.toString(), "--csv", csv.toString(), "--plot", svg.toString());
        assertEquals(0, r.status(), r.all());
        assertTrue(count(r.err(), "running in the nested lab") <= 1, "one lab start at most: " + r.err());
        assertTrue(r.out().contains("time to ready: jvmm/qemu") && r.out().contains("time to ready: jvmm/floor"), r.out());

        ObjectMapper mapper = new ObjectMapper();
        JsonSchema schema;
        try (InputStream in = BenchJson.class.getResourceAsStream(BenchJson.SCHEMA_RESOURCE)) {
            schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in);
        }
        var doc = mapper.readTree(json.toFile());
        assertTrue(schema.validate(doc).isEmpty(), "schema: " + schema.validate(doc) + "\n" + doc);
        List<BootRun> runs = BenchJson.read(json).runs();
        assertEquals(List.of("jvmm", "qemu", "floor"), runs.stream().map(BootRun::vmm).toList(), r.all());
        for (BootRun run : runs) {
            String what = run.vmm() + ": " + run + "\n" + r.all();
            assertTrue(run.ok(), what);
            assertEquals(0, run.exitStatus(), what);
            for (Phase p : List.of(Phase.FIRST_KVM_RUN, Phase.RUN_INIT, Phase.READY, Phase.EXITED)) {
                assertNotNull(run.at(p), p + " missing: " + what);
            }
            // EnumMap: in Phase (boot) order. jvmm's boot timer is jvmm's own mark, the ready line the
            // console reader's: the guest writes them 20-40 ms apart, so each is checked against its
            // own observer's neighbours rather than the one against the other.
            Map<Phase, Double> byOwnClock = new EnumMap<>(run.phases());
            Double bootTimer = byOwnClock.remove(Phase.BOOT_TIMER);
            List<Double> inOrder = new ArrayList<>(byOwnClock.values());
            for (int i = 1; i < inOrder.size(); i++) {
                assertTrue(inOrder.get(i - 1) <= inOrder.get(i), "phases out of order: " + what);
            }
            if (bootTimer != null) {
                assertTrue(run.at(Phase.RUN_INIT) <= bootTimer && bootTimer <= run.at(Phase.VM_STOPPED), what);
            }
            assertTrue(run.guestUptimeAtReadyMs() != null && run.guestUptimeAtReadyMs() > 0, what);
            assertTrue(run.peakRssKib() != null && run.guestTouchedKib() != null
                    && run.peakRssKib() >= run.guestTouchedKib() && run.guestTouchedKib() > 1024, what);
        }
        BootRun jvmm = runs.get(0);
        for (Phase p : List.of(Phase.JVM_MAIN, Phase.VM_CREATED, Phase.MEMORY_MAPPED, Phase.KERNEL_LOADED, Phase.BOOT_TIMER,
                Phase.VM_STOPPED)) {
            assertNotNull(jvmm.at(p), "jvmm's " + p + ": " + jvmm);
        }

        CsvMapper csvMapper = new CsvMapper();
        List<Map<String, String>> rows = new ArrayList<>();
        try (MappingIterator<Map<String, String>> it = csvMapper.readerForMapOf(String.class)
                .with(CsvSchema.emptySchema().withHeader()).readValues(csv.toFile())) {
            it.forEachRemaining(rows::add);
        }
        assertEquals(3, rows.size(), rows.toString());
        assertEquals("jvmm", rows.get(0).get("vmm"));
        assertEquals(jvmm.at(Phase.READY), Double.parseDouble(rows.get(0).get("ready")), 0.001);

        var svgDoc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(svg.toFile());
        assertEquals("svg", svgDoc.getDocumentElement().getLocalName() != null
                ? svgDoc.getDocumentElement().getLocalName() : svgDoc.getDocumentElement().getTagName());
    }

    /**
     * The stub guest times jvmm alone: on a PVM /dev/kvm it runs on the host (its few
     * instructions are what PVM emulates), without /dev/kvm in the lab; every run is ready with
     * jvmm's phases in order, no guest clock, and the JSON says which guest it was.
     */
    @Test
    void theStubGuestTimesJvmmAlone() throws Exception {
        Path json = tmp.resolve("stub.json");
        Jvmm.Result r = Jvmm.run(600, "bench", "boot", "--stub", "--runs", "2", "--warmup", "0", "--timeout", "60",
                "--json", json.toString());
        assertEquals(0, r.status(), r.all());
        List<BootRun> runs = BenchJson.read(json).runs();
        assertEquals(List.of("jvmm", "jvmm"), runs.stream().map(BootRun::vmm).toList(), r.all());
        for (BootRun run : runs) {
            String what = run + "\n" + r.all();
            assertTrue(run.ok(), what);
            assertEquals(0, run.exitStatus(), what);
            List<Double> inOrder = new ArrayList<>();
            for (Phase p : List.of(Phase.JVM_MAIN, Phase.VM_CREATED, Phase.MEMORY_MAPPED, Phase.KERNEL_LOADED,
                    Phase.FIRST_KVM_RUN, Phase.READY, Phase.VM_STOPPED, Phase.EXITED)) {
                assertNotNull(run.at(p), p + " missing: " + what);
                inOrder.add(run.at(p));
            }
            for (int i = 1; i < inOrder.size(); i++) {
                assertTrue(inOrder.get(i - 1) <= inOrder.get(i), "phases out of order: " + what);
            }
            Double bootTimer = run.at(Phase.BOOT_TIMER);
            assertTrue(bootTimer != null && run.at(Phase.FIRST_KVM_RUN) <= bootTimer
                    && bootTimer <= run.at(Phase.VM_STOPPED), "the stub writes the boot timer: " + what);
            assertEquals(null, run.guestUptimeAtReadyMs(), "the stub has no clock: " + what);
        }
        assertTrue(BenchJson.read(json).environment().getOrDefault("guest", "").contains("stub"),
                BenchJson.read(json).environment().toString());
        assertTrue(r.out().contains("VMM overhead (to first KVM_RUN)"), r.out());
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
