package dev.jvmm.cli;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

@Command(name = "vsock-check", mixinStandardHelpOptions = true,
        description = {"Check a running VM's vsock path from the host: send pseudo-random bytes over many connections at once"
                + " to a guest program that echoes them, and compare CRC-32C checksums.",
                "--port P connects in through the VM's Unix socket (CONNECT P, Firecracker's protocol);"
                        + " --listen P waits on PATH_P for the guest to connect to CID 2 port P."},
        footer = {"", "Exit status: 0 every connection echoed every byte; 1 otherwise; 2 bad arguments."})
final class VsockCheckCommand implements Callable<Integer> {
    @Option(names = "--uds", required = true, paramLabel = "PATH", description = "the VM's vsock Unix socket (--vsock uds=PATH)")
    Path uds;

    @ArgGroup(multiplicity = "1")
    Direction direction;

    static final class Direction {
        @Option(names = "--port", paramLabel = "P", description = "host to guest: CONNECT to guest port P")
        Integer port;

        @Option(names = "--listen", paramLabel = "P", description = "guest to host: accept on PATH_P")
        Integer listen;
    }

    @Option(names = "--connections", defaultValue = "16", paramLabel = "N", description = "parallel connections (default ${DEFAULT-VALUE})")
    int connections;

    @Option(names = "--bytes", defaultValue = "8388608", paramLabel = "N", description = "bytes each way per connection (default ${DEFAULT-VALUE})")
    long bytes;

    @Option(names = "--wait", defaultValue = "120", paramLabel = "SEC",
            description = "how long to keep trying while the VM or the guest's listener is not up yet (default ${DEFAULT-VALUE})")
    int waitSeconds;

    private record Outcome(boolean ok, String detail) {}

    @Override
    public Integer call() throws Exception {
        if (connections < 1 || connections > 1024 || bytes < 0) {
            throw new IllegalArgumentException("--connections must be 1..1024 and --bytes not negative");
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(waitSeconds);
        ExecutorService pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        });
        long start = System.nanoTime();
        List<Future<Outcome>> results = new ArrayList<>();
        ServerSocketChannel listener = null;
        try {
            if (direction.listen != null) {
                Path path = Path.of(uds + "_" + direction.listen);
                Files.deleteIfExists(path);
                listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
                listener.bind(UnixDomainSocketAddress.of(path), connections);
                line("vsock-check: listening on " + path);
                for (int i = 0; i < connections; i++) {
                    SocketChannel ch = listener.accept();
                    int index = i;
                    results.add(pool.submit(() -> exchange(ch, index, pool)));
                }
            } else {
                for (int i = 0; i < connections; i++) {
                    int index = i;
                    results.add(pool.submit(() -> exchange(connectIn(deadline), index, pool)));
                }
            }
            int ok = 0;
            for (Future<Outcome> f : results) {
                Outcome o = f.get(Math.max(1, deadline - System.nanoTime()) + TimeUnit.MINUTES.toNanos(10), TimeUnit.NANOSECONDS);
                if (o.ok()) {
                    ok++;
                } else {
                    line("vsock-check: " + o.detail());
                }
            }
            double secs = (System.nanoTime() - start) / 1e9;
            double mib = connections * (double) bytes / (1 << 20);
            line(String.format("vsock-check: %d/%d connections echoed %d bytes each, crc32c %s; %.1f MiB each way in %.1f s (%.1f MiB/s)",
                    ok, connections, bytes, ok == connections ? "match" : "MISMATCH", mib, secs, mib / secs));
            return ok == connections ? 0 : 1;
        } finally {
            if (listener != null) {
                listener.close();
                Files.deleteIfExists(Path.of(uds + "_" + direction.listen));
            }
            pool.shutdownNow();
        }
    }

    /**
     * One result line in one write(2): host scripts run several checks at once into one file,
     * and PrintStream may split a line into several writes that interleave with another process's.
     */
    static void line(String text) {
        System.out.flush();
        try {
            STDOUT.write((text + "\n").getBytes(StandardCharsets.UTF_8));
            STDOUT.flush();
        } catch (IOException ignored) {
            // stdout gone: nothing to report to
        }
    }

    private static final FileOutputStream STDOUT = new FileOutputStream(FileDescriptor.out);

    /** CONNECT through the VM's socket, retrying while the VM or the guest's listener is not up yet. */
    private SocketChannel connectIn(long deadline) throws IOException, InterruptedException {
        String last = "nothing tried";
        while (System.nanoTime() < deadline) {
            SocketChannel ch = null;
            try {
                ch = SocketChannel.open(UnixDomainSocketAddress.of(uds));
                ch.write(ByteBuffer.wrap(("CONNECT " + direction.port + "\n").getBytes(StandardCharsets.US_ASCII)));
                String line = readLine(ch);
                if (line != null && line.startsWith("OK ")) {
                    return ch;
                }
                last = line == null ? "closed without OK (no listener in the guest yet?)" : "answered '" + line + "'";
            } catch (IOException e) {
                last = e.getMessage();
            }
            if (ch != null) {
                ch.close();
            }
            Thread.sleep(500);
        }
        throw new IOException("could not connect to guest port " + direction.port + " through " + uds + ": " + last);
    }

    private static String readLine(SocketChannel ch) throws IOException {
        StringBuilder b = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (b.length() < 64) {
            one.clear();
            if (ch.read(one) < 0) {
                return null;
            }
            char c = (char) one.get(0);
            if (c == '\n') {
                return b.toString();
            }
            b.append(c);
        }
        return b.toString();
    }

    /**
     * 1 MiB of pseudo-random bytes made once; connection i sends it from its own rotating offsets,
     * so streams differ and the checker stays cheap where CPU is scarce (the nested lab).
     */
    private static final byte[] PATTERN = new byte[1 << 20];

    static {
        new SplittableRandom(0x6a766d6dL).nextBytes(PATTERN);
    }

    /** Sends {@link #bytes} of connection {@code index}'s stream, half-closes, reads the echo to EOF; CRC-32C both ways. */
    private Outcome exchange(SocketChannel ch, int index, ExecutorService pool) {
        try (ch) {
            Future<Long> sent = pool.submit(() -> {
                java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
                long left = bytes;
                long chunk = 0;
                while (left > 0) {
                    int off = (int) ((index * 7919L + chunk++ * 65537L) % (PATTERN.length - 65536));
                    int n = (int) Math.min(left, 65536);
                    ByteBuffer buf = ByteBuffer.wrap(PATTERN, off, n);
                    crc.update(buf.duplicate());
                    while (buf.hasRemaining()) {
                        ch.write(buf);
                    }
                    left -= n;
                }
                ch.shutdownOutput();
                return crc.getValue();
            });
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            ByteBuffer in = ByteBuffer.allocateDirect(64 * 1024);
            long got = 0;
            while (true) {
                in.clear();
                int n = ch.read(in);
                if (n < 0) {
                    break;
                }
                in.flip();
                crc.update(in);
                got += n;
            }
            long want = sent.get();
            boolean ok = got == bytes && want == crc.getValue();
            return new Outcome(ok, String.format("connection %d: sent %d bytes (crc32c %08x), got back %d (crc32c %08x)", index,
                    bytes, want, got, crc.getValue()));
        } catch (Exception e) {
            return new Outcome(false, "connection " + index + ": " + (e.getCause() != null ? e.getCause() : e));
        }
    }
}
