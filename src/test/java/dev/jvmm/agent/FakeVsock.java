package dev.jvmm.agent;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A stand-in for a running VM's hybrid vsock socket, so AgentClient can be tested without a VM:
 * a Unix server socket whose connections a scripted guest plays, well-behaved or hostile.
 */
public final class FakeVsock implements AutoCloseable {
    /** The guest's side of one connection, from the first byte the host sends. */
    @FunctionalInterface
    public interface Guest {
        void serve(InputStream in, OutputStream out) throws Exception;
    }

    private final ServerSocketChannel server;
    private final Path path;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    private FakeVsock(ServerSocketChannel server, Path path) {
        this.server = server;
        this.path = path;
    }

    /** Listens on {@code path}; every connection runs {@code guest} on a thread of its own. */
    public static FakeVsock start(Path path, Guest guest) throws IOException {
        return listen(path, ch -> guest.serve(Channels.newInputStream(ch), Channels.newOutputStream(ch)));
    }

    /**
     * A VM whose port 1024 is a real agent listening on the Unix socket {@code agent}: after the
     * handshake, bytes are copied both ways (channels, not streams: a blocked stream read would hold
     * the channel's lock against the other direction's writes).
     */
    public static FakeVsock proxy(Path path, Path agent) throws IOException {
        return listen(path, ch -> {
            if (!readLine(Channels.newInputStream(ch)).equals("CONNECT 1024")) {
                return;
            }
            try (SocketChannel to = SocketChannel.open(UnixDomainSocketAddress.of(agent))) {
                ch.write(ByteBuffer.wrap("OK 1234\n".getBytes(StandardCharsets.US_ASCII)));
                Thread up = new Thread(() -> pump(ch, to), "fake-vsock-up");
                up.setDaemon(true);
                up.start();
                pump(to, ch);
            }
        });
    }

    /** Copies until either side ends, then ends both. */
    private static void pump(SocketChannel from, SocketChannel to) {
        ByteBuffer b = ByteBuffer.allocate(64 * 1024);
        try (from; to) {
            while (from.read(b) >= 0) {
                b.flip();
                while (b.hasRemaining()) {
                    to.write(b);
                }
                b.clear();
            }
        } catch (Throwable ended) {
            // one side hung up (or the test ended): closing both tells the other
        }
    }

    private interface Connection {
        void serve(SocketChannel ch) throws Exception;
    }

    private static FakeVsock listen(Path path, Connection guest) throws IOException {
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        s.bind(UnixDomainSocketAddress.of(path));
        FakeVsock f = new FakeVsock(s, path);
        Thread t = new Thread(() -> {
            try {
                while (true) {
                    SocketChannel ch = s.accept();
                    Thread c = new Thread(() -> {
                        try (ch) {
                            guest.serve(ch);
                        } catch (IOException hostWentAway) {
                            // hostile scripts write until the client gives up
                        } catch (Throwable e) {
                            f.failure.compareAndSet(null, e);
                        }
                    }, "fake-vsock-guest");
                    c.setDaemon(true);
                    c.start();
                }
            } catch (Throwable closed) {
                // close() ended the accept loop
            }
        }, "fake-vsock-accept");
        t.setDaemon(true);
        t.start();
        return f;
    }

    /** A VM whose agent on port 1024 is {@code agent}: CONNECT 1024 gets OK 1234, other ports a hang-up. */
    public static FakeVsock agent(Path path, Guest agent) throws IOException {
        return start(path, (in, out) -> {
            if (!readLine(in).equals("CONNECT 1024")) {
                return;
            }
            out.write("OK 1234\n".getBytes(StandardCharsets.US_ASCII));
            agent.serve(in, out);
        });
    }

    /** One line without its newline (at most 64 KiB: a test helper's own cap). */
    public static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0 || b.size() > 65536) {
                throw new IOException("no line");
            }
            b.write(c);
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    public static void write(OutputStream out, String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** One exec frame: type, 4-byte big-endian length, payload. */
    public static void frame(OutputStream out, char type, byte[] payload) throws IOException {
        header(out, type, payload.length);
        out.write(payload);
        out.flush();
    }

    public static void header(OutputStream out, char type, long length) throws IOException {
        out.write(new byte[] {(byte) type, (byte) (length >> 24), (byte) (length >> 16), (byte) (length >> 8), (byte) length});
    }

    public static void exit(OutputStream out, int status) throws IOException {
        frame(out, 'x', new byte[] {(byte) (status >> 24), (byte) (status >> 16), (byte) (status >> 8), (byte) status});
    }

    /** Blocks until the host hangs up (its timeout, its cap), reading and dropping what it sends. */
    public static void silent(InputStream in) throws IOException {
        while (in.read() >= 0) {
            // nothing: the point is never to answer
        }
    }

    public Path path() {
        return path;
    }

    /** The first unexpected failure of a scripted guest (a broken test script), if any. */
    public Throwable failure() {
        return failure.get();
    }

    @Override
    public void close() throws IOException {
        server.close();
        Files.deleteIfExists(path);
    }
}
