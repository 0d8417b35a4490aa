package dev.jvmm.bootbench;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.PrintStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static java.util.Collections.enumeration;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A peer's console and stderr, fed in pieces as a pipe gives them, become phases, guest clocks and memory. */
class RunWatchTest {
    /** A stream that hands out {@code parts} one read at a time, as a pipe would. */
    private static InputStream pipe(String... parts) {
        return new SequenceInputStream(enumeration(List.of(parts).stream()
                .map(p -> (InputStream) new ByteArrayInputStream(p.getBytes(StandardCharsets.ISO_8859_1))).toList()));
    }

    private static RunWatch watching(long pid) {
        RunWatch w = new RunWatch(256 * 1024, null);
        w.start(System.nanoTime(), pid);
        return w;
    }

    @Test
    void consoleLinesBecomePhasesInOrderWithTheGuestsClock() throws Exception {
        RunWatch w = watching(ProcessHandle.current().pid());
        w.readConsole(pipe("[    0.000000] Linux version 6.1.192\r\n[    4.4075",
                "00] Run /init as init process\r\njvmm-bench: init uptime=3.41\r\n",
                "jvmm-bench: ready uptime=3.43\r\njvmm-bench: stopping\r\n"));
        w.joinSamplers();
        Map<Phase, Double> p = w.phases();
        assertEquals(List.of(Phase.FIRST_CONSOLE_BYTE, Phase.RUN_INIT, Phase.READY), List.copyOf(p.keySet()));
        assertTrue(p.get(Phase.FIRST_CONSOLE_BYTE) <= p.get(Phase.RUN_INIT) && p.get(Phase.RUN_INIT) <= p.get(Phase.READY));
        assertEquals(4407.5, w.guestRunInitMs(), 1e-9, "the kernel's own stamp, not the init's line");
        assertEquals(3430.0, w.guestUptimeAtReadyMs(), 1e-9);
        // this JVM stood in for the VMM: its memory was read at both markers
        assertNotNull(w.memory().peakRssKib());
        assertTrue(w.notes().containsKey("memory read at ready took (ms)"), w.notes().toString());
        assertTrue(w.notes().containsKey("memory read at stopping took (ms)"), w.notes().toString());
    }

    @Test
    void aQuietKernelsInitLineStandsForRunInit() throws Exception {
        RunWatch w = watching(Integer.MAX_VALUE);
        w.readConsole(pipe("jvmm-bench: init uptime=2.5\r\n", "jvmm-bench: ready uptime=2.6\r\n"));
        w.joinSamplers();
        assertNotNull(w.phases().get(Phase.RUN_INIT));
        assertEquals(2500.0, w.guestRunInitMs(), 1e-9);
        assertNull(w.memory().peakRssKib(), "no such process: no numbers");
        assertTrue(w.notes().get("memory at ready").contains("NoSuchFile"), w.notes().toString());
    }

    @Test
    void withoutTheReadyMarkerThereIsNoReadyPhase() throws Exception {
        RunWatch w = watching(Integer.MAX_VALUE);
        w.readConsole(pipe("[    1.000000] Kernel panic - not syncing: No working init found.\r\n"));
        w.joinSamplers();
        assertNull(w.readyAt());
        assertFalse(w.phases().containsKey(Phase.RUN_INIT));
        assertTrue(w.consoleTail().contains("Kernel panic"));
        assertEquals(Phase.FIRST_CONSOLE_BYTE.label, w.lastPhase());
    }

    @Test
    void theFloorsOwnLinesGiveItsFirstRunStopAndMemory() throws Exception {
        RunWatch w = new RunWatch(256 * 1024, null);
        w.start(1_000_000_000L, Integer.MAX_VALUE);
        w.readStderr(pipe("floorvmm: first-kvm-run 1150000000\n", "floorvmm: boot-timer 8000000000\n",
                "floorvmm: exit 0 8100000000 exit register\nfloorvmm: memory vmhwm-kib=34932 guest-resident-kib=34340\n",
                "floorvmm: cannot open kernel x: y\n"));
        w.floorStderr();
        assertEquals(150.0, w.phases().get(Phase.FIRST_KVM_RUN), 1e-9);
        assertEquals(7100.0, w.phases().get(Phase.VM_STOPPED), 1e-9);
        assertEquals("7000.0", w.notes().get("boot timer (ms)"));
        assertEquals(34932L, w.floorSelfCount().peakRssKib());
        assertEquals(34340L, w.floorSelfCount().guestResidentKib());
        assertTrue(w.stderrTail().endsWith("cannot open kernel x: y"));
    }

    @Test
    void aReaderThreadThatDiesSaysWhy() throws Exception {
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            Thread t = RunWatch.daemon("peer-console", () -> {
                throw new StackOverflowError("injected");
            });
            t.join(5000);
            assertFalse(t.isAlive());
        } finally {
            System.setErr(saved);
        }
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("jvmm: bench: peer-console stopped: java.lang.StackOverflowError: injected"),
                err.toString(StandardCharsets.UTF_8));
    }
}
