package dev.jvmm.machine;

import dev.jvmm.vmm.sys.Syscalls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BiPredicate;

/**
 * Host input to the guest console. Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A; all else,
 * Ctrl-C included, goes to the guest. Two threads: one reads the terminal and always sees the
 * escape key, one hands the bytes to the guest and may wait while the guest does not read. What
 * waits between them is bounded; typing beyond it is dropped and counted, never a reason for the
 * escape key to stop working. The process's own stdin is waited on with poll(2) beside an
 * eventfd that stop() signals, so the reader sleeps until a key or a stop arrives (a reader that
 * woke every few ms took the lab's only CPU from the guest); any other stream (tests, pipes
 * handed in) is read when available() says so, checked every few ms, so it too can be stopped.
 */
public final class ConsoleInput implements Runnable {
    public static final int ESCAPE = 0x01; // Ctrl-A
    /** Chunks of typed input waiting for the guest (each at most 1 KiB). */
    static final int PENDING_CHUNKS = 64;

    private final InputStream in;
    private final BiPredicate<byte[], Integer> sink;
    private final Runnable quit;
    private final boolean escapeKey;
    private final Thread thread;
    private final Thread deliverer;
    private final BlockingQueue<byte[]> pending = new ArrayBlockingQueue<>(PENDING_CHUNKS);
    private volatile boolean running = true;
    private volatile long dropped;
    /** Signalled by stop() to wake a reader blocked in poll(2) on stdin; -1 for other streams. */
    private final int wakeFd;

    /** {@code sink} takes (bytes, length) and returns false to stop taking input (the guest's side is gone). */
    public ConsoleInput(InputStream in, BiPredicate<byte[], Integer> sink, Runnable quit, boolean escapeKey) {
        this.in = in;
        this.sink = sink;
        this.quit = quit;
        this.escapeKey = escapeKey;
        this.thread = new Thread(this, "console-input");
        this.thread.setDaemon(true);
        this.deliverer = new Thread("console-input-deliver") { // not a method reference: see Vm
            @Override
            public void run() {
                deliver();
            }
        };
        this.deliverer.setDaemon(true);
        this.wakeFd = in == System.in ? Syscalls.eventfd(0) : -1;
    }

    private static final int STDIN = 0;

    /**
     * Waits until input can be read without blocking: returns how many bytes to read (at least
     * 1; a read may still see end of file), or 0 when stopped.
     */
    private int awaitInput(int max) throws IOException, InterruptedException {
        while (running) {
            if (wakeFd >= 0) {
                boolean[] ready = Syscalls.pollInAny(new int[] {STDIN, wakeFd}, -1);
                if (ready[0]) {
                    return max;
                }
                continue; // woken by stop(), or EINTR
            }
            int avail = in.available();
            if (avail > 0) {
                return Math.min(avail, max);
            }
            Thread.sleep(5);
        }
        return 0;
    }

    public void start() {
        thread.start();
        deliverer.start();
    }

    /** Bytes typed while the guest's side was full, and dropped. */
    public long dropped() {
        return dropped;
    }

    @Override
    public void run() {
        byte[] buf = new byte[1024];
        byte[] out = new byte[1024];
        boolean escaped = false;
        try {
            while (running) {
                int want = awaitInput(buf.length);
                if (want == 0) {
                    return;
                }
                int n = wakeFd >= 0 ? readStdin(buf, want) : in.read(buf, 0, want);
                if (n < 0) {
                    return;
                }
                int m = 0;
                for (int i = 0; i < n; i++) {
                    int b = buf[i] & 0xff;
                    if (escapeKey && escaped) {
                        escaped = false;
                        if (b == 'x' || b == 'X') {
                            if (m > 0) {
                                offer(out, m); // keys typed before the escape still reach the guest
                            }
                            quit.run();
                            return;
                        }
                        if (b == ESCAPE) {
                            out[m++] = (byte) ESCAPE;
                        }
                        continue;
                    }
                    if (escapeKey && b == ESCAPE) {
                        escaped = true;
                        continue;
                    }
                    out[m++] = (byte) b;
                }
                if (m > 0) {
                    offer(out, m);
                }
            }
        } catch (IOException e) {
            // stdin closed: no more input
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One read(2) from fd 0 (System.in's buffer would wait to fill): the count, 0 to try again, -1 at the end. */
    private static int readStdin(byte[] buf, int max) {
        ByteBuffer direct = ByteBuffer.allocateDirect(max);
        long n = Syscalls.read(STDIN, direct, max);
        if (n == -EINTR || n == -EAGAIN) {
            return 0;
        }
        if (n <= 0) {
            return -1; // end of file, or stdin gone
        }
        direct.get(0, buf, 0, (int) n);
        return (int) n;
    }

    private static final int EINTR = 4;
    private static final int EAGAIN = 11;

    private void offer(byte[] b, int n) {
        if (!pending.offer(Arrays.copyOf(b, n))) {
            dropped += n;
        }
    }

    private void deliver() {
        try {
            // What was typed before a stop (the keys before Ctrl-A x) still goes to the guest:
            // the end marker queues behind it.
            while (true) {
                byte[] chunk = pending.take();
                if (chunk == END || !sink.test(chunk, chunk.length)) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            // jvmm's own failure: typed input stops reaching the guest, the escape key still works.
            System.err.println("\r\njvmm: console input to the guest failed: " + t + "\r");
        }
    }

    /** Queued after the last input: the deliverer ends when it takes it. */
    private static final byte[] END = new byte[0];

    public void stopAndJoin() throws InterruptedException {
        running = false;
        if (wakeFd >= 0) {
            Syscalls.writeEventfd(wakeFd, 1);
        }
        thread.join(1000);
        if (!pending.offer(END)) {
            deliverer.interrupt(); // the guest stopped reading with the queue full: drop the rest
        }
        deliverer.join(200);
        if (deliverer.isAlive()) {
            deliverer.interrupt(); // waiting on a guest that does not read
            deliverer.join(1000);
        }
        if (wakeFd >= 0 && !thread.isAlive()) {
            Syscalls.close(wakeFd);
        }
    }
}
