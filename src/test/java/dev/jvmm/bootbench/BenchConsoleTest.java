package dev.jvmm.bootbench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The console lines every VMM's boot is timed on: the kernel's Run /init line and the bench init's markers. */
class BenchConsoleTest {
    @Test
    void printkTimeIsReadInMilliseconds() {
        assertEquals(3945.256, BenchConsole.printkMs("[    3.945256] Run /init as init process"), 1e-9);
        assertEquals(12225303.115, BenchConsole.printkMs("[12225.303115] x"), 1e-6);
        assertEquals(0.0, BenchConsole.printkMs("[    0.000000] Linux version 6.1.192"), 1e-9);
        // a serial console's carriage return before the line does not hide it
        assertEquals(9639.671, BenchConsole.printkMs("\r[    9.639671] Run /init as init process\r"), 1e-9);
    }

    @Test
    void linesWithoutPrintkTimeGiveNull() {
        assertNull(BenchConsole.printkMs("Run /init as init process"));
        assertNull(BenchConsole.printkMs("jvmm-bench: ready uptime=1.00"));
        assertNull(BenchConsole.printkMs("[ abc] x"));
        assertNull(BenchConsole.printkMs("x [    3.945256] later in the line"));
    }

    @Test
    void runInitLineIsRecognised() {
        assertTrue(BenchConsole.isRunInit("[    9.639671] Run /init as init process\r"));
        assertFalse(BenchConsole.isRunInit("[    9.639671] Run /sbin/init as init process"));
    }

    @Test
    void readyMarkerCarriesTheGuestUptime() {
        assertEquals(6750.0, BenchConsole.readyUptimeMs("jvmm-bench: ready uptime=6.75\r"), 1e-9);
        assertEquals(12.0, BenchConsole.readyUptimeMs("jvmm-bench: ready uptime=0.012"), 1e-9);
        assertEquals(3000.0, BenchConsole.readyUptimeMs("jvmm-bench: ready uptime=3"), 1e-9);
        assertNull(BenchConsole.readyUptimeMs("jvmm-bench: ready uptime="));
        assertNull(BenchConsole.readyUptimeMs("jvmm-bench: stopping"));
        assertTrue(BenchConsole.isStopping("jvmm-bench: stopping\r"));
    }

    @Test
    void stubGuestsReadyLineIsReadyWithoutAClock() {
        assertTrue(BenchConsole.isReady("jvmm-bench: ready\r"));
        assertTrue(BenchConsole.isReady("jvmm-bench: ready"));
        assertNull(BenchConsole.readyUptimeMs("jvmm-bench: ready\r"));
        assertTrue(BenchConsole.isReady("jvmm-bench: ready uptime=6.75"));
        assertFalse(BenchConsole.isReady("jvmm-bench: stopping"));
        assertFalse(BenchConsole.isReady("jvmm-bench: init uptime=1.5"));
    }

    @Test
    void benchInitPrintsTheMarkersTheParserReads() {
        // The init's echo lines, with the shell's $up as the guest would expand it.
        String ready = BenchInit.SCRIPT.lines().filter(l -> l.startsWith("echo") && l.contains("ready")).findFirst().orElseThrow();
        String printed = ready.replace("echo \"", "").replace("$up\"", "4.21");
        assertEquals(4210.0, BenchConsole.readyUptimeMs(printed), 1e-9);
        assertTrue(BenchInit.SCRIPT.contains("echo \"" + BenchConsole.STOPPING_MARKER + "\""));
        String init = BenchInit.SCRIPT.lines().filter(l -> l.startsWith("echo") && l.contains("init uptime"))
                .findFirst().orElseThrow().replace("echo \"", "").replace("$up\"", "1.5");
        assertEquals(1500.0, BenchConsole.initUptimeMs(init), 1e-9);
        assertNull(BenchConsole.initUptimeMs(printed));
        // order: init line, ready, boot timer, stopping, exit register, poweroff
        String s = BenchInit.SCRIPT;
        assertTrue(s.indexOf("init uptime") < s.indexOf("ready uptime"));
        assertTrue(s.indexOf("ready uptime") < s.indexOf("\njvmm_ready\n"));
        assertTrue(s.indexOf("\njvmm_ready\n") < s.indexOf("stopping"));
        assertTrue(s.indexOf("stopping") < s.indexOf("\njvmm_exit 0\n"));
        assertTrue(s.indexOf("\njvmm_exit 0\n") < s.indexOf("poweroff -f"));
    }
}
