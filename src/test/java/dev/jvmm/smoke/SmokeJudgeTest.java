package dev.jvmm.smoke;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.junit.jupiter.api.io.TempDir;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PASS/FAIL from a boot's status, --metrics and console; the JUnit XML a CI system reads back. */
class SmokeJudgeTest {
    @TempDir
    Path tmp;

    static final String MARKED = "{\"boots\":[{\"pass\":1,\"slot\":\"A\",\"version\":\"1.0.0\",\"outcome\":\"marked\",\"ready_ms\":16554}]}";
    static final String FELL_BACK = "{\"boots\":[{\"pass\":1,\"slot\":\"B\",\"version\":\"2.0.0\",\"outcome\":\"verity\",\"ready_ms\":null},"
            + "{\"pass\":2,\"slot\":\"A\",\"version\":\"1.0.0\",\"outcome\":\"rebooted\",\"ready_ms\":null}]}";

    @Test
    void verdicts() {
        SmokeResult ok = SmokeBoot.judge("br.img", 0, "container: hello\n", MARKED, Pattern.compile("container: hello"), "true", 24_000);
        assertTrue(ok.passed(), ok.toString());
        assertEquals("PASS br.img slot A v1.0.0 ready 16.6 s (24.0 s)", ok.line());

        SmokeResult noMatch = SmokeBoot.judge("br.img", 0, "nothing\n", MARKED, Pattern.compile("container: hello"), "true", 1);
        assertFalse(noMatch.passed());
        assertTrue(noMatch.reason().contains("--expect"), noMatch.reason());

        SmokeResult execFailed = SmokeBoot.judge("br.img", 3, "", MARKED, null, "exit 3", 1);
        assertEquals("--exec 'exit 3' exited 3", execFailed.reason());

        SmokeResult reboots = SmokeBoot.judge("bad.img", 67, "", FELL_BACK, null, "true", 1);
        assertEquals("rebooted on every firmware pass (passes: B:verity A:rebooted)", reboots.reason());

        SmokeResult late = SmokeBoot.judge("slow.img", 124, "", FELL_BACK, null, "true", 1);
        assertTrue(late.reason().startsWith("not ready and marked within --timeout"), late.reason());

        SmokeResult none = SmokeBoot.judge("x.img", 66, "jvmm: no usable hardware KVM here (…)\njvmm: no bootable slot (gptprio): A …\n",
                null, null, "true", 1);
        assertEquals("no bootable slot (gptprio): A …", none.reason());

        SmokeResult refused = SmokeBoot.judge("t.img", 2, "jvmm: GPT: no valid GPT: …\n", null, null, "true", 1);
        assertEquals("refused before booting (status 2): GPT: no valid GPT: …", refused.reason());

        SmokeResult garbage = SmokeBoot.judge("g.img", 0, "", "{not json", null, "true", 1);
        assertFalse(garbage.passed());
    }

    @Test
    void junitXmlReadsBackWithTheFailureAndItsConsole() throws Exception {
        SmokeResult pass = SmokeBoot.judge("br.img", 0, "", MARKED, null, "true", 24_000);
        SmokeResult fail = SmokeBoot.judge("bad <1>&.img", 67, "console \u001b[6n\u0000 <tag> & \"q\"\n", FELL_BACK, null, "true", 41_800);
        Path xml = tmp.resolve("smoke.xml");
        SmokeReport.junit(List.of(pass, fail), 66_000, xml);
        Document d = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(xml.toFile());
        Element suite = d.getDocumentElement();
        assertEquals("testsuite", suite.getTagName());
        assertEquals("2", suite.getAttribute("tests"));
        assertEquals("1", suite.getAttribute("failures"));
        NodeList cases = suite.getElementsByTagName("testcase");
        assertEquals(2, cases.getLength());
        Element bad = (Element) cases.item(1);
        assertEquals("bad <1>&.img", bad.getAttribute("name"));
        assertEquals("41.800", bad.getAttribute("time"));
        Element failure = (Element) bad.getElementsByTagName("failure").item(0);
        assertTrue(failure.getAttribute("message").startsWith("rebooted on every firmware pass"));
        String out = bad.getElementsByTagName("system-out").item(0).getTextContent();
        assertTrue(out.contains("console ?[6n? <tag> & \"q\""), out);
        assertEquals(0, ((Element) cases.item(0)).getElementsByTagName("failure").getLength());
        Path json = tmp.resolve("smoke.json");
        SmokeReport.json(List.of(pass, fail), 66_000, json);
        assertTrue(Files.readString(json).contains("\"failed\" : 1"));
    }
}
