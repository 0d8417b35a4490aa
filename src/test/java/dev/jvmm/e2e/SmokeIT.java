package dev.jvmm.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `jvmm smoke` as CI runs it: eight images of both layouts, .img and .img.lz4, two boots at a
 * time (each a jvmm of its own; in the lab, an L1 of its own), plus one image with no bootable
 * slot; JUnit XML and JSON read back; no image changes.
 */
class SmokeIT {
    @TempDir
    static Path tmp;

    @Test
    void eightImagesTwoAtATime() throws Exception {
        List<Path> images = new ArrayList<>();
        for (String layout : List.of("bottlerocket", "cos")) {
            for (int i = 0; i < 3; i++) {
                images.add(TestImages.copy(layout, "1.0.0", tmp, layout + "-" + i + ".img"));
            }
            images.add(TestImages.built(layout, "2.0.0", true));
        }
        Path unbootable = TestImages.copy("bottlerocket", "1.0.0", tmp, "unbootable.img");
        Process sg = new ProcessBuilder("sgdisk", "-A", "3:clear:48", "-A", "3:clear:56", unbootable.toString())
                .redirectErrorStream(true).start();
        sg.getInputStream().readAllBytes();
        assertEquals(0, sg.waitFor());
        List<String> before = new ArrayList<>();
        for (Path p : images) {
            before.add(ImageBootIT.sha(p));
        }
        Path junit = tmp.resolve("smoke.xml");
        Path json = tmp.resolve("smoke.json");
        List<String> argv = new ArrayList<>(List.of("smoke", "--parallel", "2", "--timeout", "300", "--expect",
                "container: hello", "--exec", "grep VERSION_ID /etc/os-release", "--junit", junit.toString(), "--json",
                json.toString()));
        images.forEach(p -> argv.add(p.toString()));
        argv.add(unbootable.toString());
        Jvmm.Result r = Jvmm.run(1800, argv.toArray(new String[0]));
        String all = r.all();
        assertEquals(1, r.status(), "one image fails, so smoke fails: " + all);
        assertEquals(8, all.lines().filter(l -> l.startsWith("smoke: PASS ")).count(), all);
        assertTrue(all.contains("smoke: FAIL unbootable.img: no bootable slot (gptprio)"), all);
        assertTrue(all.contains("smoke: 8 passed, 1 failed in"), all);
        for (int i = 0; i < images.size(); i++) {
            assertEquals(before.get(i), ImageBootIT.sha(images.get(i)), images.get(i) + " is unchanged");
        }
        Document d = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(junit.toFile());
        Element suite = d.getDocumentElement();
        assertEquals("9", suite.getAttribute("tests"));
        assertEquals("1", suite.getAttribute("failures"));
        JsonNode doc = new ObjectMapper().readTree(json.toFile());
        assertEquals(8, doc.path("passed").asInt());
        for (JsonNode img : doc.path("images")) {
            if (img.path("result").asText().equals("pass")) {
                assertTrue(img.path("ready_ms").asLong() > 0, img.toString());
                assertEquals("A", img.path("slot").asText(), img.toString());
            }
        }
    }
}
