package dev.jvmm.bootbench;

import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * QEMU's first KVM_RUN, from outside: Debian's QEMU 7.2 has the "log" trace backend, and with
 * {@code -msg timestamp=on} each trace line starts with its gettimeofday() time, "PID@SEC.USEC:".
 * The event kvm_vcpu_ioctl fires in the vCPU thread just before each vCPU ioctl; the first one
 * of type KVM_RUN (0xae80) is the first guest entry. Its wall-clock time becomes CLOCK_MONOTONIC
 * (System.nanoTime's clock) through an offset measured around the start. Since every KVM_RUN
 * then costs a write() to the log, a watcher (inotify, no polling) switches the event off through
 * QEMU's human monitor as soon as the first KVM_RUN line is in the log; the KVM_RUN lines the log
 * holds in the end are what tracing cost the run. The one-shot event vm_state_notify (the VM set
 * running, just before the vCPU threads are resumed) is traced too, as a cross-check.
 *
 * <p>Error margin: the trace's microsecond resolution, the event firing before the ioctl (the
 * formatting and write() of the log line, tens of microseconds in the lab), and the offset's
 * uncertainty (half the nanoTime bracket around Instant.now(), reported by {@link #offsetErrorNanos()});
 * nothing in L1 steps its wall clock during a run.
 */
final class QemuTrace {
    static final String EVENT = "kvm_vcpu_ioctl";
    static final String VM_STATE_EVENT = "vm_state_notify";
    static final int KVM_RUN = 0xae80;
    private static final Pattern LINE = Pattern.compile(
            "^\\d+@(\\d+)\\.(\\d{6}):" + EVENT + " cpu_index \\d+, type 0x([0-9a-f]+)", Pattern.MULTILINE);
    /** QEMU 7.2: "vm_state_notify running 1 reason 9 (running)". */
    private static final Pattern VM_RUNNING = Pattern.compile(
            "^\\d+@(\\d+)\\.(\\d{6}):vm_state_notify running 1", Pattern.MULTILINE);

    private final long realtimeMinusMonotonic;
    private final long offsetError;

    QemuTrace(long realtimeMinusMonotonic, long offsetError) {
        this.realtimeMinusMonotonic = realtimeMinusMonotonic;
        this.offsetError = offsetError;
    }

    /** Measures CLOCK_REALTIME minus CLOCK_MONOTONIC: the tightest of a few nanoTime brackets around Instant.now(). */
    static QemuTrace measureClocks() {
        long best = Long.MAX_VALUE;
        long offset = 0;
        for (int i = 0; i < 8; i++) {
            long before = System.nanoTime();
            Instant now = Instant.now();
            long after = System.nanoTime();
            if (after - before < best) {
                best = after - before;
                offset = now.getEpochSecond() * 1_000_000_000L + now.getNano() - (before + (after - before) / 2);
            }
        }
        return new QemuTrace(offset, best / 2);
    }

    long offsetErrorNanos() {
        return offsetError;
    }

    /** The first KVM_RUN in {@code log} as a System.nanoTime() value, or null when there is none. */
    Long firstKvmRunNanos(String log) {
        Matcher m = LINE.matcher(log);
        while (m.find()) {
            if (Long.parseLong(m.group(3), 16) == KVM_RUN) {
                long wall = Long.parseLong(m.group(1)) * 1_000_000_000L + Long.parseLong(m.group(2)) * 1000L;
                return wall - realtimeMinusMonotonic;
            }
        }
        return null;
    }

    /** How many KVM_RUN ioctls the log holds (the trace's own cost: each is a line written). */
    static int kvmRuns(String log) {
        Matcher m = LINE.matcher(log);
        int n = 0;
        while (m.find()) {
            n += Long.parseLong(m.group(3), 16) == KVM_RUN ? 1 : 0;
        }
        return n;
    }

    /**
     * Watches {@code log} (inotify through WatchService) until a KVM_RUN line appears or
     * {@code vmm} ends, then asks the monitor on {@code monitor} to stop the event. Returns the
     * watcher thread; {@code done} gets whether QEMU confirmed.
     */
    static Thread switchOffAfterFirstRun(Path log, Path monitor, Process vmm, Consumer<Boolean> done) {
        Thread t = new Thread(() -> {
            try (WatchService ws = FileSystems.getDefault().newWatchService()) {
                log.getParent().register(ws, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
                StringBuilder seen = new StringBuilder();
                long read = 0;
                while (vmm.isAlive()) {
                    WatchKey key = ws.poll(100, TimeUnit.MILLISECONDS);
                    if (key != null) {
                        key.pollEvents();
                        key.reset();
                    }
                    read = readFrom(log, read, seen);
                    if (kvmRuns(seen.toString()) > 0) {
                        done.accept(switchOff(monitor));
                        return;
                    }
                    if (seen.length() > (1 << 20)) {
                        seen.delete(0, seen.length() - 4096); // keep a line split across reads
                    }
                }
            } catch (IOException | InterruptedException | RuntimeException e) {
                done.accept(false);
            }
        }, "qemu-trace-watch");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static long readFrom(Path log, long offset, StringBuilder into) throws IOException {
        if (!Files.exists(log)) {
            return offset;
        }
        try (SeekableByteChannel ch = Files.newByteChannel(log)) {
            ch.position(offset);
            ByteBuffer b = ByteBuffer.allocate(64 * 1024);
            int n;
            while ((n = ch.read(b)) > 0) {
                into.append(new String(b.array(), 0, n, StandardCharsets.ISO_8859_1));
                offset += n;
                b.clear();
            }
        }
        return offset;
    }

    /** The vm_state_notify line that set the VM running, as a System.nanoTime() value, or null. */
    Long vmRunningNanos(String log) {
        Matcher m = VM_RUNNING.matcher(log);
        return m.find() ? Long.parseLong(m.group(1)) * 1_000_000_000L + Long.parseLong(m.group(2)) * 1000L
                - realtimeMinusMonotonic : null;
    }

    static String readLog(Path log) {
        try {
            return Files.readString(log, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * Asks QEMU's human monitor on {@code socket} to stop tracing; returns whether it answered
     * with a prompt after the command.
     */
    static boolean switchOff(Path socket) {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap(("trace-event " + EVENT + " off\n").getBytes(StandardCharsets.US_ASCII)));
            InputStream in = Channels.newInputStream(ch);
            StringBuilder seen = new StringBuilder();
            byte[] buf = new byte[512];
            int n;
            // The banner ends with a prompt; the command's completion with a second one.
            while (countPrompts(seen) < 2 && (n = in.read(buf)) > 0) {
                seen.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
            }
            return countPrompts(seen) >= 2;
        } catch (IOException e) {
            return false;
        }
    }

    private static int countPrompts(CharSequence s) {
        int n = 0;
        for (int i = s.toString().indexOf("(qemu)"); i >= 0; i = s.toString().indexOf("(qemu)", i + 1)) {
            n++;
        }
        return n;
    }
}
