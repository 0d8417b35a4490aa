package dev.jvmm.lab;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The L1 watchdog against a stand-in QEMU: a process that lives on, a heartbeat file, and a
 * monitor socket that answers like QEMU's human monitor and records what it was asked.
 */
class LabWatchdogTest {
    @TempDir
    Path tmp;
    private Process standIn;

    @AfterEach
    void stop() {
        if (standIn != null) {
            standIn.destroyForcibly();
        }
    }

    @Test
    void aSilentL1GetsAKeyPressAndIsSaidToBeAliveWhenItBeatsAgain() throws Exception {
        Path beat = Files.writeString(tmp.resolve("heartbeat"), ".");
        List<String> asked = new CopyOnWriteArrayList<>();
        // QEMU's answer to the key press: L1 wakes and its heartbeat goes on.
        Monitor monitor = new Monitor(tmp.resolve("monitor.sock"), asked, command -> append(beat));
        standIn = new ProcessBuilder("sleep", "60").start();
        ByteArrayOutputStream said = new ByteArrayOutputStream();
        try (LabWatchdog dog = new LabWatchdog(beat, monitor.path, standIn, new PrintStream(said, true), 30, 2)) {
            dog.start();
            waitUntil(() -> dog.revivals() == 1, 15);
            assertEquals(List.of("sendkey shift"), asked);
            assertFalse(dog.gaveUp());
        }
        String text = said.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("silent for") && text.contains("key press"), text);
        assertTrue(text.contains("alive again"), text);
        assertTrue(standIn.isAlive(), "a revived lab runs on");
        monitor.close();
    }

    @Test
    void anL1ThatStaysSilentGetsAnNmiThenIsStopped() throws Exception {
        Path beat = Files.writeString(tmp.resolve("heartbeat"), ".");
        List<String> asked = new CopyOnWriteArrayList<>();
        Monitor monitor = new Monitor(tmp.resolve("monitor.sock"), asked, command -> { });
        standIn = new ProcessBuilder("sleep", "60").start();
        ByteArrayOutputStream said = new ByteArrayOutputStream();
        try (LabWatchdog dog = new LabWatchdog(beat, monitor.path, standIn, new PrintStream(said, true), 30, 1)) {
            dog.start();
            assertTrue(standIn.waitFor(20, TimeUnit.SECONDS), "the watchdog stops a lab that stays silent");
            waitUntil(dog::gaveUp, 5);
            assertFalse(dog.neverBeat(), "it had beaten: the run may have begun, it must not be started again");
        }
        assertEquals(List.of("sendkey shift", "nmi"), asked);
        assertTrue(said.toString(StandardCharsets.UTF_8).contains("stayed silent"), said.toString());
        monitor.close();
    }

    @Test
    void anL1ThatNeverReachesItsInitIsToldApart() throws Exception {
        Path beat = Files.createFile(tmp.resolve("heartbeat"));
        List<String> asked = new CopyOnWriteArrayList<>();
        Monitor monitor = new Monitor(tmp.resolve("monitor.sock"), asked, command -> { });
        standIn = new ProcessBuilder("sleep", "60").start();
        ByteArrayOutputStream said = new ByteArrayOutputStream();
        try (LabWatchdog dog = new LabWatchdog(beat, monitor.path, standIn, new PrintStream(said, true), 2, 1)) {
            dog.start();
            assertTrue(standIn.waitFor(20, TimeUnit.SECONDS), "the watchdog stops an L1 that never beats");
            waitUntil(dog::gaveUp, 5);
            assertTrue(dog.neverBeat(), "no beat: nothing of the run happened, so the lab may start L1 again");
        }
        assertTrue(said.toString(StandardCharsets.UTF_8).contains("has not reached its init"), said.toString());
        monitor.close();
    }

    @Test
    void aBeatingL1IsLeftAlone() throws Exception {
        Path beat = Files.writeString(tmp.resolve("heartbeat"), ".");
        List<String> asked = new CopyOnWriteArrayList<>();
        Monitor monitor = new Monitor(tmp.resolve("monitor.sock"), asked, command -> { });
        standIn = new ProcessBuilder("sleep", "60").start();
        try (LabWatchdog dog = new LabWatchdog(beat, monitor.path, standIn, new PrintStream(new ByteArrayOutputStream()), 30, 2)) {
            dog.start();
            for (int i = 0; i < 8; i++) {
                Thread.sleep(500);
                append(beat);
            }
            assertEquals(List.of(), asked);
            assertEquals(0, dog.revivals());
        }
        monitor.close();
    }

    private static void append(Path beat) {
        try {
            Files.writeString(beat, ".", StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    private static void waitUntil(BooleanSupplier done, int seconds) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < end, "not within " + seconds + " s");
            Thread.sleep(50);
        }
    }

    /** A stand-in for QEMU's human monitor on a Unix socket: a banner, then a prompt after each command. */
    private static final class Monitor implements AutoCloseable {
        final Path path;
        private final ServerSocketChannel server;
        private final Thread thread;

        Monitor(Path path, List<String> asked, Consumer<String> onCommand) throws IOException {
            this.path = path;
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(path));
            thread = new Thread(() -> {
                try {
                    while (true) {
                        try (SocketChannel c = server.accept()) {
                            c.write(ByteBuffer.wrap("QEMU 7.2.0 monitor - type 'help' for more information\r\n(qemu) "
                                    .getBytes(StandardCharsets.US_ASCII)));
                            ByteBuffer in = ByteBuffer.allocate(256);
                            StringBuilder line = new StringBuilder();
                            while (c.read(in) > 0) {
                                in.flip();
                                while (in.hasRemaining()) {
                                    char ch = (char) in.get();
                                    if (ch == '\n') {
                                        asked.add(line.toString());
                                        onCommand.accept(line.toString());
                                        c.write(ByteBuffer.wrap("\r\n(qemu) ".getBytes(StandardCharsets.US_ASCII)));
                                        line.setLength(0);
                                    } else {
                                        line.append(ch);
                                    }
                                }
                                in.clear();
                            }
                        }
                    }
                } catch (IOException closed) {
                    // the test is over
                }
            }, "fake-monitor");
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    @Test
    void theHeartbeatWritesNothingBeforeItsDeviceExists() throws Exception {
        // arm64's hvc0 appears only when virtio_console loads, after the heartbeat starts: the
        // init line must not make a regular file of that name, which would keep the node away.
        Path device = tmp.resolve("hvc0");
        String script = LabWatchdog.initLine(device.toString()) + " pid=$!; sleep 2.5; kill $pid";
        Process sh = new ProcessBuilder("busybox", "sh", "-c", script).redirectErrorStream(true).start();
        assertTrue(sh.waitFor(20, TimeUnit.SECONDS), "the script ends");
        assertFalse(Files.exists(device), "no file made where the device node goes");
        assertTrue(LabWatchdog.initLine("/dev/ttyS1").contains("[ -c /dev/ttyS1 ] && printf . > /dev/ttyS1"));
    }
}
