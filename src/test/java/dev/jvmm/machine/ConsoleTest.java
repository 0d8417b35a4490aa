package dev.jvmm.machine;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConsoleTest {
    @Test
    void escapeQuitsAndDoubledEscapeSendsOneCtrlA() throws Exception {
        byte[] keys = {'l', 's', 0x03, 0x01, 0x01, '\r', 0x01, 'x', 'z'};
        ByteArrayOutputStream toGuest = new ByteArrayOutputStream();
        AtomicBoolean quit = new AtomicBoolean();
        ConsoleInput in = new ConsoleInput(new ByteArrayInputStream(keys), (b, n) -> {
            toGuest.write(b, 0, n);
            return true;
        }, () -> quit.set(true), true);
        in.start();
        for (int i = 0; i < 200 && !quit.get(); i++) {
            Thread.sleep(5);
        }
        in.stopAndJoin();
        assertTrue(quit.get());
        assertEquals("ls\u0003\u0001\r", toGuest.toString(StandardCharsets.ISO_8859_1), "Ctrl-C goes to the guest");
    }

    @Test
    void outputMilestonesReachTheTimeline() throws Exception {
        Timeline tl = new Timeline();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ConsoleOutput console = new ConsoleOutput(out, tl);
        for (byte b : "[    0.1] Linux version 6.1\r\n[  2.3] Run /init as init process\r\n$ ".getBytes(StandardCharsets.US_ASCII)) {
            console.write(b);
        }
        assertEquals("$ ", console.pending(), "a prompt without newline waits for the periodic flush");
        console.flush();
        assertTrue(out.toString().endsWith("$ "));
        assertNotNull(tl.millisOf("first console byte"));
        assertNotNull(tl.millisOf("kernel: runs /init"));
        assertNotNull(tl.millisOf("kernel: first console line"));
    }

    @Test
    void hostLinesNeverLandInsideAGuestLine() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        java.util.List<String> watched = new java.util.ArrayList<>();
        ConsoleOutput console = new ConsoleOutput(out, new Timeline(), watched::add);
        for (byte b : "[ 6.2] I/O erro".getBytes(StandardCharsets.US_ASCII)) {
            console.write(b);
        }
        OutputStream exec = new LineStream(console);
        exec.write("touch=1\npart".getBytes(StandardCharsets.US_ASCII));
        console.flushIfIdle(); // the guest is mid-line and has not paused: nothing moves
        for (byte b : "r, dev vda\n".getBytes(StandardCharsets.US_ASCII)) {
            console.write(b);
        }
        exec.write("ial\n".getBytes(StandardCharsets.US_ASCII));
        console.flush();
        assertEquals("[ 6.2] I/O error, dev vda\ntouch=1\npartial\n", out.toString(StandardCharsets.US_ASCII));
        assertEquals(java.util.List.of("[ 6.2] I/O error, dev vda"), watched, "the watcher sees the guest's lines alone");
    }

    @Test
    void aPromptGoesOutOnceTheGuestPausesAndHostLinesStartOnANewLine() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ConsoleOutput console = new ConsoleOutput(out, new Timeline());
        for (byte b : "/ # ".getBytes(StandardCharsets.US_ASCII)) {
            console.write(b);
        }
        Thread.sleep(ConsoleOutput.IDLE_NANOS / 1_000_000 + 20);
        console.flushIfIdle();
        assertEquals("/ # ", out.toString(StandardCharsets.US_ASCII));
        console.writeLines("host\n".getBytes(StandardCharsets.US_ASCII), 0, 5);
        assertEquals("/ # \r\nhost\n", out.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void aBrokenPipeIsTheHostsBusinessNotTheGuests() throws Exception {
        OutputStream broken = new OutputStream() {
            @Override
            public void write(int b) throws java.io.IOException {
                throw new java.io.IOException("Broken pipe");
            }
        };
        ConsoleOutput console = new ConsoleOutput(broken, new Timeline());
        java.util.concurrent.atomic.AtomicInteger told = new java.util.concurrent.atomic.AtomicInteger();
        console.onOutputGone(told::incrementAndGet);
        for (int i = 0; i < 20_000; i++) {
            console.write(i % 80 == 79 ? '\n' : 'x'); // the vCPU's UART writes never fail
        }
        console.writeLines("host\n".getBytes(StandardCharsets.US_ASCII), 0, 5);
        console.flush();
        assertEquals(1, told.get(), "said once");
        assertEquals("", console.pending(), "nothing piles up");
    }

    @Test
    void theEscapeKeyWorksWhileTheGuestReadsNothing() throws Exception {
        // 128 KiB of typing the guest never takes (its side blocks), then Ctrl-A x.
        byte[] keys = new byte[131072 + 2];
        java.util.Arrays.fill(keys, (byte) 'a');
        keys[131072] = 0x01;
        keys[131073] = 'x';
        AtomicBoolean quit = new AtomicBoolean();
        CountDownLatchHolder blocked = new CountDownLatchHolder();
        ConsoleInput in = new ConsoleInput(new ByteArrayInputStream(keys), (b, n) -> {
            blocked.await(); // a guest that never reads
            return true;
        }, () -> quit.set(true), true);
        in.start();
        for (int i = 0; i < 400 && !quit.get(); i++) {
            Thread.sleep(5);
        }
        assertTrue(quit.get(), "Ctrl-A x is seen although the guest's side is full");
        in.stopAndJoin();
        assertTrue(in.dropped() > 0, "typing beyond the bound is dropped, not queued without end");
    }

    /** Blocks until interrupted, as a full UART input queue does for a guest that never reads. */
    static final class CountDownLatchHolder {
        private final java.util.concurrent.CountDownLatch never = new java.util.concurrent.CountDownLatch(1);

        void await() {
            try {
                never.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
