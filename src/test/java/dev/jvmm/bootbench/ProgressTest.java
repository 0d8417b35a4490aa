package dev.jvmm.bootbench;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static dev.jvmm.bootbench.FakeRuns.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Progress where stderr is no terminal: one plain line per finished run, nothing redrawn. */
class ProgressTest {
    @Test
    void plainLinesOnePerRun() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        try (Progress p = Progress.start(3, out, false)) {
            p.starting("jvmm", 1, true);
            p.step(run("jvmm", 1, true, null, Phase.READY, 1234.56));
            p.starting("jvmm", 2, false);
            p.step(run("jvmm", 2, false, "no ready marker within 60 s"));
            p.step(run("floor", 1, false, null, Phase.FIRST_KVM_RUN, 6.4));
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(List.of(
                "bench boot 1/3: jvmm #1 (warm-up) ready 1234.6 ms",
                "bench boot 2/3: jvmm #2 failed (status 1): no ready marker within 60 s",
                "bench boot 3/3: floor #1 done (no ready)"), text.lines().toList());
        assertFalse(text.contains("\r"));
    }

    @Test
    void aStreamThatIsNotStderrGetsPlainLines() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (Progress p = Progress.start(1, new PrintStream(bytes, true, StandardCharsets.UTF_8))) {
            p.step(run("qemu", 1, false, null, Phase.READY, 700));
        }
        assertEquals("bench boot 1/1: qemu #1 ready 700.0 ms\n", bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void theBarShowsTheVmmAndTheLastReady() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        try (Progress p = Progress.start(2, out, true)) {
            p.step(run("jvmm", 1, false, null, Phase.READY, 812.3));
            p.starting("qemu", 1, false);
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("bench boot"), text);
        assertTrue(text.contains("qemu #1, last jvmm 812 ms"), text);
        assertTrue(text.contains("1/2"), text);
    }
}
