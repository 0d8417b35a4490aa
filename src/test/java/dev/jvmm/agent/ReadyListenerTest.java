package dev.jvmm.agent;

import dev.jvmm.agent.ReadyListener.Options;
import dev.jvmm.agent.ReadyListener.Ready;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ReadyListener with real Unix-socket clients: the READY line, malformed and hostile guests, its caps, its socket file. */
class ReadyListenerTest {
    @TempDir
    Path tmp;

    private final List<Ready> heard = new CopyOnWriteArrayList<>();
    private final List<String> problems = new CopyOnWriteArrayList<>();

    /** Tests not about the cap allow 16: a guest answered may reconnect before its handler has released its place. */
    private static final int ROOMY = 16;

    private Options options(Duration readTimeout, int max) {
        return new Options(readTimeout, max, problems::add);
    }

    private ReadyListener marking(Options options) throws IOException {
        return ReadyListener.open(tmp.resolve("vm.sock"), r -> {
            heard.add(r);
            return "MARKED " + r.slot();
        }, options);
    }

    /** Sends {@code text} as the guest would and returns the one reply line (null if closed without one). */
    private static String send(Path path, String text) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        try (Wire w = Wire.connect(path, deadline)) {
            try {
                w.write(text.getBytes(StandardCharsets.UTF_8), deadline);
            } catch (IOException cutOff) {
                // a flood the listener stopped reading: its answer is still there to read
            }
            return w.readLine(4096, deadline);
        }
    }

    /** Whether the listener hangs up on a good READY without answering (end of stream, or a reset for unread bytes). */
    private static boolean closedWithoutAnswer(Path path) throws IOException {
        try {
            return send(path, "READY slot=X version=1\n") == null;
        } catch (IOException e) {
            return e.getMessage() != null && e.getMessage().contains("reset");
        }
    }

    @Test
    void aReadyLineReachesTheCallbackAndItsAnswerTheGuest() throws Exception {
        try (ReadyListener l = marking(options(Duration.ofSeconds(5), ROOMY))) {
            assertEquals(tmp.resolve("vm.sock_1025"), l.path());
            assertEquals("MARKED B", send(l.path(), "READY slot=B version=2.0.0\n"));
            assertEquals("MARKED A", send(l.path(), "READY slot=A version=1.0.0-rc1\r\n"));
            assertEquals(List.of(new Ready("B", "2.0.0"), new Ready("A", "1.0.0-rc1")), heard);
            assertTrue(problems.isEmpty(), problems.toString());
        }
    }

    @Test
    void malformedLinesGetAnErrorAndNeverReachTheCallback() throws Exception {
        try (ReadyListener l = marking(options(Duration.ofSeconds(5), ROOMY))) {
            for (String bad : List.of("READY\n", "READY slot=B\n", "HELLO slot=B version=1\n", "READY slot=B version=1 more\n",
                    "READY slot=B;reboot version=1\n", "ready slot=B version=1\n", "READY slot= version=1\n", "\n")) {
                assertEquals("error: expected READY slot=<slot> version=<version>", send(l.path(), bad), bad);
            }
            assertTrue(heard.isEmpty(), heard.toString());
            assertEquals("MARKED B", send(l.path(), "READY slot=B version=1\n"), "still serving");
        }
    }

    @Test
    void linesAreCapped() throws Exception {
        try (ReadyListener l = marking(options(Duration.ofSeconds(5), ROOMY))) {
            String max = "x".repeat(ReadyListener.MAX_LINE);
            assertEquals("error: expected READY slot=<slot> version=<version>", send(l.path(), max + "\n"));
            assertEquals("error: a line longer than 256 bytes", send(l.path(), max + "x\n"));
            assertEquals("error: a line longer than 256 bytes", send(l.path(), "READY " + "y".repeat(1 << 20)));
            assertTrue(heard.isEmpty(), heard.toString());
        }
    }

    @Test
    void theCallbacksAnswerIsOneSafeLine() throws Exception {
        List<String> answers = List.of("two\nlines", "z".repeat(1000));
        try (ReadyListener l = ReadyListener.open(tmp.resolve("vm.sock"), r -> r.slot().equals("N") ? null
                : answers.get(Integer.parseInt(r.slot())), options(Duration.ofSeconds(5), ROOMY))) {
            assertEquals("ok", send(l.path(), "READY slot=N version=1\n"));
            assertEquals("two?lines", send(l.path(), "READY slot=0 version=1\n"));
            assertEquals("z".repeat(ReadyListener.MAX_LINE), send(l.path(), "READY slot=1 version=1\n"));
        }
    }

    @Test
    void aFailingCallbackIsReportedAndTheListenerGoesOn() throws Exception {
        try (ReadyListener l = ReadyListener.open(tmp.resolve("vm.sock"), r -> {
            if (r.slot().equals("B")) {
                throw new IllegalStateException("disk full");
            }
            return "fine";
        }, options(Duration.ofSeconds(5), ROOMY))) {
            assertEquals("error: the host could not record readiness", send(l.path(), "READY slot=B version=1\n"));
            assertEquals(1, problems.size(), problems.toString());
            assertTrue(problems.get(0).contains("disk full"), problems.toString());
            assertEquals("fine", send(l.path(), "READY slot=A version=1\n"));
        }
    }

    @Test
    void connectionsBeyondTheCapAreClosedAtOnce() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (ReadyListener l = ReadyListener.open(tmp.resolve("vm.sock"), r -> {
            release.await();
            return "late " + r.slot();
        }, options(Duration.ofSeconds(60), 4))) {
            List<SocketChannel> held = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) { // four guests whose answers hang in the callback
                    SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(l.path()));
                    ch.write(ByteBuffer.wrap(("READY slot=" + i + " version=1\n").getBytes(StandardCharsets.US_ASCII)));
                    held.add(ch);
                }
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (l.active() < 4 && System.nanoTime() < until) {
                    Thread.sleep(10);
                }
                assertEquals(4, l.active());
                long start = System.nanoTime();
                for (int i = 0; i < 100; i++) { // the rest are closed long before the 60 s read timeout
                    assertTrue(closedWithoutAnswer(l.path()), "connection " + i + " beyond the cap");
                    assertTrue(l.active() <= 4);
                }
                assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(30), "closed at once, not timed out");
                release.countDown();
                for (int i = 0; i < 4; i++) {
                    try (Wire w = Wire.of(held.get(i))) {
                        assertEquals("late " + i, w.readLine(64, System.nanoTime() + TimeUnit.SECONDS.toNanos(10)));
                    }
                }
            } finally {
                for (SocketChannel ch : held) {
                    ch.close();
                }
            }
        }
    }

    @Test
    void silentGuestsTimeOutAndAGoodOneIsServedAfterwards() throws Exception {
        try (ReadyListener l = marking(options(Duration.ofMillis(300), 4))) {
            List<SocketChannel> silent = new ArrayList<>();
            try {
                for (int i = 0; i < 100; i++) {
                    silent.add(SocketChannel.open(UnixDomainSocketAddress.of(l.path())));
                }
                for (SocketChannel ch : silent) { // every one ends: rejected at once, or after 0.3 s of silence
                    assertEquals(-1, ch.read(ByteBuffer.allocate(16)));
                    assertTrue(l.active() <= 4);
                }
            } finally {
                for (SocketChannel ch : silent) {
                    ch.close();
                }
            }
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (l.active() > 0 && System.nanoTime() < until) { // the last handlers release after closing
                Thread.sleep(10);
            }
            assertEquals("MARKED B", send(l.path(), "READY slot=B version=1\n"));
            assertEquals(List.of(new Ready("B", "1")), heard);
            assertTrue(problems.isEmpty(), problems.toString());
        }
    }

    @Test
    void closeDeletesTheSocketFileAndStopsListening() throws Exception {
        ReadyListener l = marking(options(Duration.ofSeconds(5), ROOMY));
        Path p = l.path();
        assertTrue(Files.exists(p));
        l.close();
        assertFalse(Files.exists(p));
        assertThrows(IOException.class, () -> send(p, "READY slot=B version=1\n"));
        l.close(); // twice is harmless
    }

    @Test
    void aStaleSocketIsReplacedButNotALiveOneOrAnotherFile() throws Exception {
        Path p = tmp.resolve("vm.sock_1025");
        ServerSocketChannel stale = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        stale.bind(UnixDomainSocketAddress.of(p));
        IOException live = assertThrows(IOException.class, () -> marking(options(Duration.ofSeconds(5), ROOMY)));
        assertTrue(live.getMessage().contains("another program"), live.getMessage());
        stale.close(); // the file stays behind, as after a crash
        try (ReadyListener l = marking(options(Duration.ofSeconds(5), ROOMY))) {
            assertEquals("MARKED B", send(l.path(), "READY slot=B version=1\n"));
        }
        Files.writeString(p, "not a socket");
        IOException other = assertThrows(IOException.class, () -> marking(options(Duration.ofSeconds(5), ROOMY)));
        assertTrue(other.getMessage().contains("not a socket"), other.getMessage());
        assertEquals("not a socket", Files.readString(p));
    }

    @Test
    void optionsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> new Options(Duration.ZERO, 4, s -> {}));
        assertThrows(IllegalArgumentException.class, () -> new Options(Duration.ofSeconds(1), 0, s -> {}));
        assertThrows(IllegalArgumentException.class, () -> new Options(Duration.ofSeconds(1), 65, s -> {}));
    }
}
