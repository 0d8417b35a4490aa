package dev.jvmm.agent;

import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.ProtocolException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Hears the guest say it is up: jvmm-agent notify-ready connects to CID 2 port 1025, which the VM's
 * vsock device turns into a connection to the Unix socket {@code <uds>_1025}, and sends
 * {@code READY slot=<slot> version=<version>}. The callback's answer goes back as one line (the
 * guest prints it). Kept apart from the machine code: the VM run loop decides what READY means.
 */
public final class ReadyListener implements AutoCloseable {
    public static final int PORT = 1025;
    /** The longest line read from the guest, without its newline, and the longest reply. */
    public static final int MAX_LINE = 256;

    private static final Pattern READY = Pattern.compile("READY slot=([A-Za-z0-9._-]{1,32}) version=([A-Za-z0-9._+~-]{1,64})");

    /** What the guest reported. */
    public record Ready(String slot, String version) {
        public Ready {
            Objects.requireNonNull(slot);
            Objects.requireNonNull(version);
        }

        /** The READY line's contents, or null if the line is not one. */
        public static Ready parse(String line) {
            Matcher m = READY.matcher(line);
            return m.matches() ? new Ready(m.group(1), m.group(2)) : null;
        }
    }

    /** Decides what a READY means; returns the reply line (null: "ok"). Called on the listener's own threads. */
    @FunctionalInterface
    public interface Callback {
        String onReady(Ready ready) throws Exception;
    }

    /**
     * How long a guest may take to send its line, how many guests are served at once (more are
     * closed at once), and where unexpected failures are reported (one line each).
     */
    public record Options(Duration readTimeout, int maxConnections, Consumer<String> problems) {
        public static final Options DEFAULT = new Options(Duration.ofSeconds(10), 4, ReadyListener::toStderr);

        public Options {
            if (readTimeout.isNegative() || readTimeout.isZero() || maxConnections < 1 || maxConnections > 64) {
                throw new IllegalArgumentException("readTimeout must be positive and maxConnections 1..64");
            }
            Objects.requireNonNull(problems);
        }
    }

    private final Path path;
    private final Callback callback;
    private final Options options;
    private final ServerSocketChannel server;
    private final Semaphore slots;
    private final Set<Wire> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger served = new AtomicInteger();
    private volatile boolean closed;

    private ReadyListener(Path path, Callback callback, Options options, ServerSocketChannel server) {
        this.path = path;
        this.callback = callback;
        this.options = options;
        this.server = server;
        this.slots = new Semaphore(options.maxConnections());
    }

    /** Listens on {@code <uds>_1025} with the default options. */
    public static ReadyListener open(Path uds, Callback callback) throws IOException {
        return open(uds, callback, Options.DEFAULT);
    }

    /** Listens on {@code <uds>_1025}, replacing a stale socket file there; never a live socket or another kind of file. */
    public static ReadyListener open(Path uds, Callback callback, Options options) throws IOException {
        Objects.requireNonNull(callback);
        Objects.requireNonNull(options);
        Path path = Path.of(uds + "_" + PORT);
        clearStale(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(path), 16);
        } catch (IOException | RuntimeException e) {
            server.close();
            throw new IOException("cannot listen on " + path + ": " + e.getMessage(), e);
        }
        ReadyListener l = new ReadyListener(path, callback, options, server);
        Thread t = new Thread(l::acceptLoop, "jvmm-ready-listener");
        t.setDaemon(true);
        t.start();
        return l;
    }

    public Path path() {
        return path;
    }

    /** Connections being read or answered now (never more than maxConnections). */
    public int active() {
        return options.maxConnections() - slots.availablePermits();
    }

    /** Connections answered so far, well-formed or not. */
    public int served() {
        return served.get();
    }

    private static void clearStale(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & 0170000) != 0140000) {
            throw new IOException(path + " exists and is not a socket; not replacing it");
        }
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            throw new IOException("another program listens on " + path);
        } catch (ConnectException stale) {
            Files.delete(path);
        }
    }

    private void acceptLoop() {
        try {
            while (!closed) {
                SocketChannel ch = server.accept();
                if (!slots.tryAcquire()) {
                    ch.close(); // the cap: a flood of silent guests does not pile up threads
                    continue;
                }
                try {
                    Thread t = new Thread(() -> serve(ch), "jvmm-ready-connection");
                    t.setDaemon(true);
                    t.start();
                } catch (Throwable e) {
                    slots.release();
                    ch.close();
                    throw e;
                }
            }
        } catch (Throwable e) {
            if (!closed) {
                options.problems().accept("readiness listener on " + path + " stopped: " + e);
            }
        }
    }

    private void serve(SocketChannel ch) {
        Wire w = null;
        try {
            w = Wire.of(ch);
            open.add(w);
            if (closed) {
                return;
            }
            long deadline = System.nanoTime() + options.readTimeout().toNanos();
            String reply;
            try {
                String line = w.readLine(MAX_LINE, deadline);
                if (line == null) {
                    return;
                }
                Ready ready = Ready.parse(line);
                reply = ready == null ? "error: expected READY slot=<slot> version=<version>" : answer(ready);
            } catch (ProtocolException tooLong) {
                reply = "error: a line longer than " + MAX_LINE + " bytes";
            }
            w.write((reply + "\n").getBytes(StandardCharsets.UTF_8), deadline);
            served.incrementAndGet();
        } catch (Throwable e) {
            // A guest that stays silent, hangs up or floods is its own problem; only report ours.
            if (!(e instanceof IOException) && !closed) {
                options.problems().accept("readiness connection on " + path + " failed: " + e);
            }
        } finally {
            if (w != null) {
                open.remove(w);
            }
            closeQuietly(w, ch);
            slots.release();
        }
    }

    /** The callback's reply as one safe line; its failure becomes an "error:" reply. */
    private String answer(Ready ready) {
        String reply;
        try {
            reply = callback.onReady(ready);
        } catch (Exception e) {
            options.problems().accept("readiness callback failed for slot " + ready.slot() + ": " + e);
            return "error: the host could not record readiness";
        }
        if (reply == null) {
            return "ok";
        }
        String clean = AgentClient.printable(reply);
        return clean.length() > MAX_LINE ? clean.substring(0, MAX_LINE) : clean;
    }

    /** Stops listening, drops connections in progress and deletes the socket file. */
    @Override
    public void close() throws IOException {
        closed = true;
        try {
            server.close();
            for (Wire w : open) {
                closeQuietly(w, null);
            }
        } finally {
            Files.deleteIfExists(path);
        }
    }

    private static void closeQuietly(Wire w, SocketChannel ch) {
        try {
            if (w != null) {
                w.close();
            } else if (ch != null) {
                ch.close();
            }
        } catch (IOException ignored) {
            // closing after the fact: nothing left to tell anyone
        }
    }

    private static void toStderr(String problem) {
        PrintStream err = System.err;
        byte[] line = ("jvmm: " + problem + "\n").getBytes(StandardCharsets.UTF_8);
        err.write(line, 0, line.length); // one write: the line is not torn by other writers
        err.flush();
    }
}
