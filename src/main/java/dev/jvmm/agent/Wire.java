package dev.jvmm.agent;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ProtocolException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A Unix stream socket read and written against deadlines (System.nanoTime values). Java's
 * Unix-domain channels have no read timeout, so the channel is non-blocking and a Selector waits.
 * Everything read passes through one small buffer: a peer cannot make this side hold more than a
 * caller's cap.
 */
final class Wire implements Closeable {
    static final long NO_DEADLINE = Long.MAX_VALUE;
    private static final int BUFFER = 16 * 1024;

    private final SocketChannel channel;
    private final Selector selector;
    private final ByteBuffer in = ByteBuffer.allocate(BUFFER).flip(); // read mode, empty

    private Wire(SocketChannel channel) throws IOException {
        this.channel = channel;
        Selector s = null;
        try {
            channel.configureBlocking(false);
            s = Selector.open();
        } finally {
            if (s == null) {
                channel.close();
            }
        }
        this.selector = s;
    }

    static Wire connect(Path uds, long deadline) throws IOException {
        Wire w = new Wire(SocketChannel.open(StandardProtocolFamily.UNIX));
        try {
            if (!w.channel.connect(UnixDomainSocketAddress.of(uds))) {
                while (!w.channel.finishConnect()) {
                    w.await(SelectionKey.OP_CONNECT, deadline);
                }
            }
            return w;
        } catch (IOException | RuntimeException e) {
            w.close();
            throw e;
        }
    }

    /** Takes over an accepted (blocking or not) channel. */
    static Wire of(SocketChannel accepted) throws IOException {
        return new Wire(accepted);
    }

    /** The next line without its "\n" (or "\r\n"); null at end of stream before any byte. */
    String readLine(int max, long deadline) throws IOException {
        byte[] line = new byte[max];
        int n = 0;
        while (true) {
            while (in.hasRemaining()) {
                byte b = in.get();
                if (b == '\n') {
                    return new String(line, 0, n > 0 && line[n - 1] == '\r' ? n - 1 : n, StandardCharsets.UTF_8);
                }
                if (n == max) {
                    throw new ProtocolException("a line longer than " + max + " bytes");
                }
                line[n++] = b;
            }
            if (!fill(deadline)) {
                if (n == 0) {
                    return null;
                }
                throw new EOFException("the connection ended in the middle of a line");
            }
        }
    }

    /** Fills {@code dst}; false at end of stream before its first byte. */
    boolean readFully(byte[] dst, long deadline) throws IOException {
        int n = 0;
        while (n < dst.length) {
            int got = readSome(dst, n, dst.length - n, deadline);
            if (got < 0) {
                if (n == 0) {
                    return false;
                }
                throw new EOFException("the connection ended after " + n + " of " + dst.length + " bytes");
            }
            n += got;
        }
        return true;
    }

    /** At least one and at most {@code len} bytes into {@code dst}; -1 at end of stream. */
    int readSome(byte[] dst, int off, int len, long deadline) throws IOException {
        if (!in.hasRemaining() && !fill(deadline)) {
            return -1;
        }
        int n = Math.min(len, in.remaining());
        in.get(dst, off, n);
        return n;
    }

    void write(byte[] bytes, long deadline) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            if (channel.write(b) == 0) {
                await(SelectionKey.OP_WRITE, deadline);
            }
        }
    }

    /** Reads more into the (empty) buffer; false at end of stream. */
    private boolean fill(long deadline) throws IOException {
        in.clear();
        try {
            while (true) {
                int n = channel.read(in);
                if (n != 0) {
                    return n > 0;
                }
                await(SelectionKey.OP_READ, deadline);
            }
        } finally {
            in.flip();
        }
    }

    private void await(int ops, long deadline) throws IOException {
        try {
            channel.register(selector, ops);
            while (true) {
                long waitMillis = 0; // forever
                if (deadline != NO_DEADLINE) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new SocketTimeoutException("timed out");
                    }
                    waitMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(left));
                }
                int ready = selector.select(waitMillis);
                selector.selectedKeys().clear();
                if (ready > 0) {
                    return;
                }
                if (!selector.isOpen() || !channel.isOpen()) {
                    throw new AsynchronousCloseException();
                }
                if (Thread.interrupted()) {
                    throw new InterruptedIOException("interrupted");
                }
            }
        } catch (ClosedSelectorException e) {
            throw new AsynchronousCloseException(); // close() from another thread
        }
    }

    /** Safe from any thread: wakes a waiting reader, which then fails. */
    @Override
    public void close() throws IOException {
        try {
            selector.close();
        } finally {
            channel.close();
        }
    }
}
