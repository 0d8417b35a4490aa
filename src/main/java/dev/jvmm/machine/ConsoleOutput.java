package dev.jvmm.machine;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;

/**
 * The guest console's way to the host: buffered, flushed at each newline and by a periodic
 * flush (so prompts without a newline appear), and watched for boot milestones.
 */
public final class ConsoleOutput extends OutputStream {
    /** A console line prefix that marks a timeline event. */
    public record Milestone(String text, String event) {}

    public static final List<Milestone> LINUX_MILESTONES = List.of(
            new Milestone("Linux version ", "kernel: first console line"),
            new Milestone("Freeing unused kernel", "kernel: freeing init memory"),
            new Milestone("Run /init as init process", "kernel: runs /init"));

    private final OutputStream out;
    private final Timeline timeline;
    private final byte[] buf = new byte[8192];
    private int len;
    private final StringBuilder line = new StringBuilder();
    private boolean first = true;
    private final Consumer<String> lineWatcher;

    public ConsoleOutput(OutputStream out, Timeline timeline) {
        this(out, timeline, line -> { });
    }

    /** {@code lineWatcher} sees each line (its first 200 characters) as it ends. */
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
        if (b == '\n') {
            checkMilestones();
            line.setLength(0);
        } else if (line.length() < 200) {
            line.append((char) (b & 0xff));
        }
        if (b == '\n' || len == buf.length) {
            flush();
        }
    }

    private void checkMilestones() {
        String l = line.toString();
        for (Milestone m : LINUX_MILESTONES) {
            if (l.contains(m.text())) {
                timeline.markOnce(m.event());
            }
        }
        lineWatcher.accept(l);
    }

    @Override
    public synchronized void flush() throws IOException {
        if (len > 0) {
            out.write(buf, 0, len);
            len = 0;
        }
        out.flush();
    }

    /** Text not yet flushed, for tests. */
    synchronized String pending() {
        return new String(buf, 0, len, StandardCharsets.ISO_8859_1);
    }
}
