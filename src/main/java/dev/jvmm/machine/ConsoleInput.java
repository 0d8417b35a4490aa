package dev.jvmm.machine;

import java.io.IOException;
import java.io.InputStream;
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
 * escape key to stop working. Polls with available() so both can always be stopped and joined.
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

    /** {@code sink} takes (bytes, length) and returns false to stop taking input (the guest's side is gone). */
    public ConsoleInput(InputStream in, BiPredicate<byte[], Integer> sink, Runnable quit, boolean escapeKey) {
        this.in = in;
        this.sink = sink;
        this.quit = quit;
        this.escapeKey = escapeKey;
        this.thread = new Thread(this, "console-input");
        this.thread.setDaemon(true);
        this.deliverer = new Thread(this::deliver, "console-input-deliver");
        this.deliverer.setDaemon(true);
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
                int avail = in.available();
                if (avail <= 0) {
                    Thread.sleep(5);
                    continue;
                }
                int n = in.read(buf, 0, Math.min(avail, buf.length));
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

    private void offer(byte[] b, int n) {
        if (!pending.offer(Arrays.copyOf(b, n))) {
            dropped += n;
        }
    }

    private void deliver() {
        try {
            // What was typed before a stop (the keys before Ctrl-A x) still goes to the guest.
            while (running || !pending.isEmpty()) {
                byte[] chunk = pending.poll(50, TimeUnit.MILLISECONDS);
                if (chunk != null && !sink.test(chunk, chunk.length)) {
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

    public void stopAndJoin() throws InterruptedException {
        running = false;
        thread.join(1000);
        deliverer.join(200);
        if (deliverer.isAlive()) {
            deliverer.interrupt(); // waiting on a guest that does not read
            deliverer.join(1000);
        }
    }
}
