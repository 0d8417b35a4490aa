package dev.jvmm.machine;

import java.io.IOException;
import java.io.InputStream;
import java.util.function.BiPredicate;

/**
 * Host input to the guest console. Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A; all else,
 * Ctrl-C included, goes to the guest. Polls with available() so the thread can always be
 * stopped and joined.
 */
public final class ConsoleInput implements Runnable {
    public static final int ESCAPE = 0x01; // Ctrl-A

    private final InputStream in;
    private final BiPredicate<byte[], Integer> sink;
    private final Runnable quit;
    private final boolean escapeKey;
    private final Thread thread;
    private volatile boolean running = true;

    /** {@code sink} takes (bytes, length) and returns false to stop reading. */
    public ConsoleInput(InputStream in, BiPredicate<byte[], Integer> sink, Runnable quit, boolean escapeKey) {
        this.in = in;
        this.sink = sink;
        this.quit = quit;
        this.escapeKey = escapeKey;
        this.thread = new Thread(this, "console-input");
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
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
                                sink.test(out, m); // keys typed before the escape still reach the guest
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
                if (m > 0 && !sink.test(out, m)) {
                    return;
                }
            }
        } catch (IOException e) {
            // stdin closed: no more input
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public void stopAndJoin() throws InterruptedException {
        running = false;
        thread.join(1000);
    }
}
