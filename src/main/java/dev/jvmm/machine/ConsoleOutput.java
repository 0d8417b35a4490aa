package dev.jvmm.machine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The guest console's way to the host: buffered, flushed at each newline and, for a partial
 * line (a prompt), once the guest has paused — a one-shot timer armed only while such a line
 * waits, so a quiet console costs no wake-ups — and watched for boot milestones. Lines from the host's side of the guest (the agent's --exec output) come in
 * whole, between the guest's lines, so neither is cut in two by the other.
 */
public final class ConsoleOutput extends OutputStream {
    /** A console line prefix that marks a timeline event. */
    public record Milestone(String text, String event) {}

    public static final List<Milestone> LINUX_MILESTONES = List.of(
            new Milestone("Linux version ", "kernel: first console line"),
            new Milestone("Freeing unused kernel", "kernel: freeing init memory"),
            new Milestone("Run /init as init process", "kernel: runs /init"),
            new Milestone("jvmm-bench: init uptime=", ConsoleOutput.INIT_STARTED));

    /** The bench init's first line (jvmm bench boot's guest): its start, when a quiet kernel prints no "Run /init". */
    public static final String INIT_STARTED = "init: started (bench init)";

    private final OutputStream out;
    private final Timeline timeline;
    private final byte[] buf = new byte[8192];
    private int len;
    private final StringBuilder line = new StringBuilder();
    private boolean first = true;
    private final Consumer<String> lineWatcher;
    /** Whole lines from the host's side, waiting for the guest's line to end; capped. */
    private final ByteArrayOutputStream foreign = new ByteArrayOutputStream();
    private boolean outAtLineStart = true;
    private long lastGuestByteNanos;
    /** A partial guest line goes out after this much silence: a prompt, not a line being printed. */
    static final long IDLE_NANOS = 50_000_000L;
    private static final Runnable NOTHING = new Runnable() {
        @Override
        public void run() {
        }
    };
    /** An inner class, not a method reference: see Terminal on lambdas in the boot path. */
    private final Runnable idleCheck = new Runnable() {
        @Override
        public void run() {
            idleCheck();
        }
    };
    static final int FOREIGN_CAP = 1 << 20;
    /** Set once writing to the host failed (`jvmm boot | head`): the guest runs on, its console unread. */
    private boolean outGone;
    private Runnable onOutputGone = NOTHING;
    /** Runs the idle check for a waiting partial line; null: the owner calls flushIfIdle itself. */
    private ScheduledExecutorService idleFlusher;
    private boolean idleCheckArmed;

    public ConsoleOutput(OutputStream out, Timeline timeline) {
        this(out, timeline, null);
    }

    /** {@code lineWatcher} (or null) sees each line (its first 200 characters) as it ends. */
    public ConsoleOutput(OutputStream out, Timeline timeline, Consumer<String> lineWatcher) {
        this.out = out;
        this.timeline = timeline;
        this.lineWatcher = lineWatcher;
    }

    @Override
    public synchronized void write(int b) throws IOException {
        if (first) {
            first = false;
            timeline.mark("first console byte");
        }
        buf[len++] = (byte) b;
        lastGuestByteNanos = System.nanoTime();
        if (b == '\n') {
            checkMilestones();
            line.setLength(0);
        } else if (line.length() < 200) {
            line.append((char) (b & 0xff));
        }
        if (b == '\n' || len == buf.length) {
            flush();
        } else {
            armIdleCheck(IDLE_NANOS);
        }
    }

    /** From now on a partial line is flushed by {@code timer} once the guest has been quiet for a while. */
    public synchronized void flushWhenIdle(ScheduledExecutorService timer) {
        idleFlusher = timer;
    }

    private void armIdleCheck(long delayNanos) {
        if (idleFlusher == null || idleCheckArmed) {
            return;
        }
        try {
            idleFlusher.schedule(idleCheck, delayNanos, TimeUnit.NANOSECONDS);
            idleCheckArmed = true;
        } catch (RejectedExecutionException shutDown) {
            // the VM is closing: its teardown flushes what is left
        }
    }

    private synchronized void idleCheck() {
        idleCheckArmed = false;
        if (len == 0 && foreign.size() == 0) {
            return;
        }
        long quiet = System.nanoTime() - lastGuestByteNanos;
        if (len == 0 || quiet >= IDLE_NANOS) {
            flush();
        } else {
            armIdleCheck(IDLE_NANOS - quiet);
        }
    }

    private void checkMilestones() {
        String l = line.toString();
        for (Milestone m : LINUX_MILESTONES) {
            if (l.contains(m.text())) {
                timeline.markOnce(m.event());
            }
        }
        if (lineWatcher != null) {
            lineWatcher.accept(l);
        }
    }

    /** Called once when the host side of the console goes away; the guest is not stopped for it. */
    public synchronized void onOutputGone(Runnable r) {
        onOutputGone = r;
    }

    /**
     * Writes what is buffered to the host. A closed or broken output (EPIPE) is the host's
     * business, not the guest's: the bytes are dropped from then on, the VM runs on.
     */
    @Override
    public synchronized void flush() {
        try {
            if (len > 0) {
                if (!outGone) {
                    out.write(buf, 0, len);
                }
                outAtLineStart = buf[len - 1] == '\n';
                len = 0;
            }
            emitForeign();
            if (!outGone) {
                out.flush();
            }
        } catch (IOException e) {
            len = 0;
            foreign.reset();
            if (!outGone) {
                outGone = true;
                onOutputGone.run();
            }
        }
    }

    /** The periodic flush: a partial guest line only once the guest has paused. */
    public synchronized void flushIfIdle() {
        if (len == 0 || System.nanoTime() - lastGuestByteNanos >= IDLE_NANOS) {
            flush();
        }
    }

    /**
     * Whole lines from the host's side of the guest, shown at the next boundary of the guest's
     * own lines (at once when the guest is between lines).
     */
    public synchronized void writeLines(byte[] b, int off, int n) throws IOException {
        foreign.write(b, off, n);
        if (len == 0 || foreign.size() > FOREIGN_CAP) {
            flush();
        } else {
            armIdleCheck(IDLE_NANOS);
        }
    }

    private void emitForeign() throws IOException {
        if (foreign.size() == 0 || outGone) {
            foreign.reset();
            return;
        }
        if (!outAtLineStart) {
            out.write('\r');
            out.write('\n');
        }
        foreign.writeTo(out);
        outAtLineStart = true;
        foreign.reset();
    }

    /** Text not yet flushed, for tests. */
    synchronized String pending() {
        return new String(buf, 0, len, StandardCharsets.ISO_8859_1);
    }
}
