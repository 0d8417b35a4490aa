package dev.jvmm.lab;

import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Watches the lab's L1 for the freeze QEMU 7.2's nested SVM under TCG is known here to fall
 * into: L1 halts with its timer interrupt pending and never wakes, so the boot inside it stalls
 * with no message until the lab's outer guard gives up. L1's init writes a heartbeat byte to its
 * second serial port (ttyS1, a file on the host) every second, through `sleep`, so it stops
 * exactly when L1's timer does. After {@link #SILENT_SECONDS} of silence this sends L1 a key
 * press through QEMU's monitor (an interrupt makes the CPU look at what is pending, which is what
 * revived such an L1 by hand), then, if that did not help, an NMI; it says so either way. A quiet
 * guest is not silence: the heartbeat is L1's own, not the guest's console.
 */
final class LabWatchdog implements AutoCloseable {
    /** Silence after which L1 counts as frozen; heartbeats come every second. */
    static final int SILENT_SECONDS = 15;
    /** L1 boots for a few seconds (tens under load) before its init starts the heartbeat. */
    static final int FIRST_BEAT_SECONDS = 90;

    private final int firstBeatSeconds;
    private final int silentSeconds;
    private final Path heartbeat;
    private final Path monitor;
    private final Process qemu;
    private final PrintStream log;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile int revivals;
    private volatile boolean gaveUp;
    private volatile boolean beat;

    /** QEMU arguments for the heartbeat port (the lab architecture's {@code heartbeatPort}) and the monitor socket. */
    static List<String> qemuArguments(List<String> heartbeatPort, Path monitor) {
        List<String> out = new ArrayList<>(heartbeatPort);
        out.addAll(List.of("-monitor", "unix:" + monitor + ",server=on,wait=off"));
        return out;
    }

    /**
     * The line L1's init runs in the background: one byte a second to {@code device} (x86_64's
     * ttyS1, arm64's virtio console hvc0) while L1's timer works. Only once the device node is
     * there: arm64's hvc0 appears when virtio_console is loaded, after this starts, and a write
     * before that made a regular file of that name on devtmpfs, which then kept the device's node
     * from appearing (the watchdog heard nothing and stopped every arm64 lab run at 90 s).
     */
    static String initLine(String device) {
        return "(while :; do [ -c " + device + " ] && printf . > " + device + "; sleep 1; done) 2>/dev/null &";
    }

    static final String INIT_LINE = initLine("/dev/ttyS1");

    LabWatchdog(Path heartbeat, Path monitor, Process qemu, PrintStream log) {
        this(heartbeat, monitor, qemu, log, FIRST_BEAT_SECONDS, SILENT_SECONDS);
    }

    /** With other limits, for tests. */
    LabWatchdog(Path heartbeat, Path monitor, Process qemu, PrintStream log, int firstBeatSeconds, int silentSeconds) {
        this.firstBeatSeconds = firstBeatSeconds;
        this.silentSeconds = silentSeconds;
        this.heartbeat = heartbeat;
        this.monitor = monitor;
        this.qemu = qemu;
        this.log = log;
        this.thread = new Thread(this::watch, "lab-watchdog");
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** How many times L1 was woken. */
    int revivals() {
        return revivals;
    }

    /** Whether L1 stayed silent after every attempt to wake it (QEMU was then stopped). */
    boolean gaveUp() {
        return gaveUp;
    }

    /** Whether L1 never beat: it froze before its init ran, so nothing of the run has happened yet. */
    boolean neverBeat() {
        return !beat;
    }

    private void watch() {
        try {
            long lastSize = -1;
            long lastChange = System.nanoTime();
            int attempts = 0;
            while (running && qemu.isAlive()) {
                if (qemu.waitFor(1, TimeUnit.SECONDS)) {
                    return;
                }
                long size = Files.exists(heartbeat) ? Files.size(heartbeat) : 0;
                long now = System.nanoTime();
                if (size != lastSize) {
                    beat |= size > 0;
                    if (attempts > 0) {
                        revivals++;
                        log.println("\r\njvmm: lab: L1 is alive again after " + (attempts == 1 ? "a key press" : "an NMI")
                                + " through QEMU's monitor\r");
                    }
                    lastSize = size;
                    lastChange = now;
                    attempts = 0;
                    continue;
                }
                long silentSeconds = TimeUnit.NANOSECONDS.toSeconds(now - lastChange);
                int limit = size == 0 ? firstBeatSeconds : this.silentSeconds;
                if (silentSeconds < limit + attempts * this.silentSeconds) {
                    continue;
                }
                if (attempts == 0) {
                    log.println("\r\njvmm: lab: L1 has been silent for " + silentSeconds + " s" + (size == 0
                            ? " and has not reached its init" : "") + " (its timer stopped: a known stall of nested"
                            + " virtualization under QEMU's TCG); sending it a key press through QEMU's monitor\r");
                    monitorCommand("sendkey shift");
                    attempts = 1;
                } else if (attempts == 1) {
                    log.println("\r\njvmm: lab: L1 is still silent; sending it an NMI through QEMU's monitor\r");
                    monitorCommand("nmi");
                    attempts = 2;
                } else {
                    gaveUp = true;
                    log.println("\r\njvmm: lab: L1 stayed silent for " + silentSeconds + " s after a key press and an NMI;"
                            + " stopping the lab\r");
                    qemu.destroyForcibly();
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            log.println("\r\njvmm: lab: the L1 watchdog failed (" + t + "); the lab runs on unwatched\r");
        }
    }

    /** One human-monitor command over QEMU's monitor socket; the answer is not needed. */
    void monitorCommand(String command) {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(monitor));
            ch.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.US_ASCII)));
            ByteBuffer answer = ByteBuffer.allocate(4096);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            ch.configureBlocking(false);
            while (System.nanoTime() < deadline && answer.hasRemaining()) {
                if (ch.read(answer) < 0) {
                    break;
                }
                String so = new String(answer.array(), 0, answer.position(), StandardCharsets.US_ASCII);
                if (so.indexOf("(qemu)") != so.lastIndexOf("(qemu)")) {
                    break; // the banner's prompt and the one after our command
                }
                Thread.sleep(20);
            }
        } catch (IOException e) {
            log.println("\r\njvmm: lab: QEMU's monitor did not take '" + command + "': " + e.getMessage() + "\r");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join(2000);
    }
}
