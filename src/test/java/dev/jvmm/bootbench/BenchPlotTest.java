package dev.jvmm.bootbench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.jvmm.bootbench.FakeRuns.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The --plot SVG: well-formed XML with one group per chart, the VMMs and phase labels in it. */
class BenchPlotTest {
    @TempDir
    Path tmp;

    private Document plot(List<BootRun> runs) throws Exception {
        Path file = tmp.resolve("bench.svg");
        BenchReport.write(runs, Map.of(), null, null, file);
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        return f.newDocumentBuilder().parse(file.toFile());
    }

    /** The text of the group with this id; exactly one such group. */
    private static String group(Document svg, String id) {
        List<Element> found = new ArrayList<>();
        NodeList groups = svg.getElementsByTagNameNS("*", "g");
        for (int i = 0; i < groups.getLength(); i++) {
            Element g = (Element) groups.item(i);
            if (id.equals(g.getAttribute("id"))) {
                found.add(g);
            }
        }
        assertEquals(1, found.size(), "groups with id " + id);
        return found.get(0).getTextContent();
    }

    @Test
    void threeVmmsTwoCharts() throws Exception {
        Document svg = plot(FakeRuns.threeVmms(20, 2, 9));
        assertEquals("svg", svg.getDocumentElement().getLocalName());
        String phases = group(svg, BenchPlot.PHASES_ID);
        String runs = group(svg, BenchPlot.RUNS_ID);
        assertTrue(phases.contains("Where a boot spends its time"), phases);
        assertTrue(runs.contains("Time to ready, run by run"), runs);
        for (String vmm : List.of("jvmm", "qemu", "floor")) {
            assertTrue(phases.contains(vmm), vmm);
            assertTrue(runs.contains(vmm + " p50"), vmm);
        }
        for (Phase p : Phase.values()) {
            boolean inData = !List.of(Phase.FIRMWARE_PASS, Phase.AGENT_READY).contains(p);
            assertEquals(inData, phases.contains(p.label), p.label);
        }
    }

    @Test
    void oneVmmWithMissingPhasesStillRenders() throws Exception {
        List<BootRun> runs = List.of(
                run("jvmm", 1, false, null, Phase.VM_CREATED, 10, Phase.KERNEL_LOADED, 30, Phase.READY, 100),
                run("jvmm", 2, false, null, Phase.VM_CREATED, 20, Phase.READY, 80),
                run("jvmm", 3, false, "timeout", Phase.VM_CREATED, 15));
        Document svg = plot(runs);
        String phases = group(svg, BenchPlot.PHASES_ID);
        assertTrue(phases.contains("jvmm"));
        assertTrue(phases.contains(Phase.KERNEL_LOADED.label));
        assertFalse(phases.contains("qemu"));
        assertTrue(group(svg, BenchPlot.RUNS_ID).contains("jvmm p50 90 ms"));
    }

    @Test
    void noCountedRunsStillRenders() throws Exception {
        Document svg = plot(List.of(run("qemu", 1, false, "refused"), run("qemu", 2, true, null, Phase.READY, 3)));
        assertTrue(group(svg, BenchPlot.PHASES_ID).contains("no counted runs"));
        assertTrue(group(svg, BenchPlot.RUNS_ID).contains("no counted run reached ready"));
    }

    @Test
    void segmentsAreMediansOfEachPhaseSinceTheRunsPreviousOne() {
        List<BootRun> counted = List.of(
                run("jvmm", 1, false, null, Phase.VM_CREATED, 10, Phase.KERNEL_LOADED, 30, Phase.READY, 100),
                run("jvmm", 2, false, null, Phase.VM_CREATED, 20, Phase.READY, 80),
                run("jvmm", 3, false, null, Phase.VM_CREATED, 30, Phase.KERNEL_LOADED, 25, Phase.READY, 95),
                run("qemu", 1, false, null, Phase.VM_CREATED, 5));
        Map<String, Map<Phase, Double>> m = BenchPlot.medianSegments(counted, List.of("jvmm", "qemu"));
        // VM_CREATED from 0: 10, 20, 30 -> 20. KERNEL_LOADED: 20, and 25 − 30 < 0 -> 0; median 10.
        // READY since the run's latest milestone: 70, 60, 95 − 30 = 65 -> 65.
        assertEquals(Map.of(Phase.VM_CREATED, 20.0, Phase.KERNEL_LOADED, 10.0, Phase.READY, 65.0), m.get("jvmm"));
        assertEquals(Map.of(Phase.VM_CREATED, 5.0), m.get("qemu"));
        assertEquals(List.of("jvmm", "qemu"), List.copyOf(m.keySet()));
    }
}
