package dev.jvmm.bootbench;

import me.tongfei.progressbar.InteractiveConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Progress while {@code jvmm bench boot} runs its boots, which take minutes in all: on a terminal
 * a progress bar (me.tongfei:progressbar) naming the VMM booting now and the last time to ready;
 * where stderr is a file or a pipe (CI logs), one plain line per finished run instead, since a
 * redrawn bar there is a smear of carriage returns.
 */
public final class Progress implements AutoCloseable {
    private final int total;
    private final PrintStream out;
    private final ProgressBar bar;
    private int done;
    private String lastShort = "";

    private Progress(int total, PrintStream out, ProgressBar bar) {
        this.total = total;
        this.out = out;
        this.bar = bar;
    }

    /** A bar when {@code err} is the process's stderr and that is a terminal, else plain lines on {@code err}. */
    public static Progress start(int totalRuns, PrintStream err) {
        return start(totalRuns, err, err == System.err && stderrIsTerminal());
    }

    static Progress start(int totalRuns, PrintStream out, boolean terminal) {
        if (!terminal) {
            return new Progress(totalRuns, out, null);
        }
        ProgressBar bar = new ProgressBarBuilder().setTaskName("bench boot").setInitialMax(totalRuns)
                .setConsumer(new InteractiveConsoleProgressBarConsumer(out)).setUpdateIntervalMillis(500).build();
        return new Progress(totalRuns, out, bar);
    }

    /** A run begins: the bar names it and the last time to ready (plain mode prints nothing until it ends). */
    public void starting(String vmm, int index, boolean warmup) {
        if (bar != null) {
            bar.setExtraMessage(name(vmm, index, warmup) + (lastShort.isEmpty() ? "" : ", last " + lastShort));
        }
    }

    /** A run ended. */
    public void step(BootRun run) {
        done++;
        if (bar != null) {
            // The bar's line is as wide as the terminal: its message stays short.
            Double ready = run.at(BenchSummary.TIME_TO_READY);
            lastShort = run.vmm() + (!run.ok() ? " failed" : ready == null ? " no ready"
                    : String.format(Locale.ROOT, " %.0f ms", ready));
            bar.step();
            bar.setExtraMessage("last " + lastShort);
        } else {
            out.printf(Locale.ROOT, "bench boot %d/%d: %s %s%n", done, total,
                    name(run.vmm(), run.index(), run.warmup()), outcome(run));
            out.flush();
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }

    private static String name(String vmm, int index, boolean warmup) {
        return vmm + " #" + index + (warmup ? " (warm-up)" : "");
    }

    private static String outcome(BootRun run) {
        if (!run.ok()) {
            return "failed (status " + run.exitStatus() + "): " + run.failure();
        }
        Double ready = run.at(BenchSummary.TIME_TO_READY);
        return ready == null ? "done (no ready)" : String.format(Locale.ROOT, "ready %.1f ms", ready);
    }

    /** Whether fd 2 is a terminal: on Linux its /proc link names a tty or pseudo-terminal. */
    static boolean stderrIsTerminal() {
        if ("dumb".equals(System.getenv("TERM"))) {
            return false;
        }
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}
