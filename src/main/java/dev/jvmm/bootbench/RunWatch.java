package dev.jvmm.bootbench;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

/**
 * One peer run as it is watched: the console read and timestamped as it arrives (phases, the
 * guest's clocks, memory read at the markers, on threads of their own), the VMM's stderr kept,
 * the floor's own lines parsed. Shared by the reader threads and the runner, all under its lock.
 */
final class RunWatch {
    /** How much of the console a run keeps, for a failure's report. */
    static final int CONSOLE_TAIL = 16 * 1024;

    private final PrintStream consoleEcho;
    private final long guestKib;
    private final EnumMap<Phase, Double> phases = new EnumMap<>(Phase.class);
    private final Map<String, String> notes = new LinkedHashMap<>();
    private final StringBuilder consoleTail = new StringBuilder();
    private final StringBuilder stderr = new StringBuilder();
    private long t0;
    private long pid;
    private Double guestRunInitMs;
    private Double guestUptimeAtReadyMs;
    private ProcMemory.Sample atReady;
    private ProcMemory.Sample atStopping;
    private Sampler readySampler;
    private Sampler stoppingSampler;
    private Long floorPeakKib;
    private Long floorGuestKib;

    RunWatch(long guestKib, PrintStream consoleEcho) {
        this.guestKib = guestKib;
        this.consoleEcho = consoleEcho;
    }

    /** The floor's own count at its exit (VmHWM, and its guest RAM resident by mincore), or nulls. */
    synchronized ProcMemory.Sample floorSelfCount() {
        return new ProcMemory.Sample(floorPeakKib, floorGuestKib, null, null);
    }

    synchronized Double guestRunInitMs() {
        return guestRunInitMs;
    }

    synchronized Double guestUptimeAtReadyMs() {
        return guestUptimeAtReadyMs;
    }

    /** The VMM started at {@code t0} (System.nanoTime) as process {@code pid}: the memory readers wait for their markers. */
    synchronized void start(long t0, long pid) {
        this.t0 = t0;
        this.pid = pid;
        readySampler = new Sampler("ready", s -> atReady = s);
        stoppingSampler = new Sampler("stopping", s -> atStopping = s);
    }

    /** A VMM that counts its own memory (jvmm): only its console is timed here, nothing read from /proc. */
    synchronized void startConsoleOnly(long t0) {
        this.t0 = t0;
    }

    synchronized void phase(Phase p, long nanos) {
        phases.putIfAbsent(p, (nanos - t0) / 1e6);
    }

    synchronized Double readyAt() {
        return phases.get(Phase.READY);
    }

    synchronized Map<Phase, Double> phases() {
        return new EnumMap<>(phases);
    }

    synchronized String lastPhase() {
        return phases.isEmpty() ? "nothing" : phases.keySet().stream().reduce((a, b) -> b).orElseThrow().label;
    }

    synchronized void note(String k, String v) {
        notes.put(k, v);
    }

    synchronized Map<String, String> notes() {
        return new LinkedHashMap<>(notes);
    }

    synchronized String consoleTail() {
        return consoleTail.toString();
    }

    synchronized String stderrTail() {
        String s = stderr.toString().trim();
        return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
    }

    /** The later of the two samples where it was read, else the earlier: both only ever grow. */
    synchronized ProcMemory.Sample memory() {
        ProcMemory.Sample a = atReady != null ? atReady : ProcMemory.NONE;
        ProcMemory.Sample b = atStopping != null ? atStopping : a;
        ProcMemory.Sample m = new ProcMemory.Sample(b.peakRssKib() != null ? b.peakRssKib() : a.peakRssKib(),
                b.guestResidentKib() != null ? b.guestResidentKib() : a.guestResidentKib(),
                b.guestMapping() != null ? b.guestMapping() : a.guestMapping(), b.error());
        if (a.error() != null) {
            note("memory at ready", a.error());
        }
        if (b != a && b.error() != null) {
            note("memory at stopping", b.error());
        }
        if (m.guestMapping() != null) {
            note("guest mapping (KiB)", "size " + m.guestMapping().sizeKib() + ", huge pages "
                    + m.guestMapping().anonHugeKib());
        }
        if (a.peakRssKib() != null && b != a) {
            note("peak RSS at ready -> at stopping (KiB)", a.peakRssKib() + " -> " + b.peakRssKib());
        }
        return m;
    }

    void readConsole(InputStream in) {
        byte[] buf = new byte[8192];
        StringBuilder line = new StringBuilder();
        boolean first = true;
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                long now = System.nanoTime();
                if (first) {
                    first = false;
                    phase(Phase.FIRST_CONSOLE_BYTE, now);
                }
                if (consoleEcho != null) {
                    consoleEcho.write(buf, 0, n);
                    consoleEcho.flush();
                }
                String chunk = new String(buf, 0, n, StandardCharsets.ISO_8859_1);
                synchronized (this) {
                    consoleTail.append(chunk);
                    if (consoleTail.length() > CONSOLE_TAIL) {
                        consoleTail.delete(0, consoleTail.length() - CONSOLE_TAIL);
                    }
                }
                for (int i = 0; i < chunk.length(); i++) {
                    char c = chunk.charAt(i);
                    if (c == '\n') {
                        consoleLine(line.toString(), now);
                        line.setLength(0);
                    } else if (line.length() < 4096) {
                        line.append(c);
                    }
                }
            }
        } catch (IOException closed) {
            // the VMM went away
        }
    }

    private void consoleLine(String line, long now) {
        Double uptime;
        if (BenchConsole.isRunInit(line)) {
            synchronized (this) {
                if (!phases.containsKey(Phase.RUN_INIT)) {
                    phase(Phase.RUN_INIT, now);
                    guestRunInitMs = BenchConsole.printkMs(line);
                }
            }
        } else if ((uptime = BenchConsole.initUptimeMs(line)) != null) {
            synchronized (this) { // a quiet kernel printed no "Run /init": the init's first line stands for it
                if (!phases.containsKey(Phase.RUN_INIT)) {
                    phase(Phase.RUN_INIT, now);
                    guestRunInitMs = uptime;
                }
            }
        } else if (BenchConsole.isReady(line)) {
            synchronized (this) {
                if (phases.containsKey(Phase.READY)) {
                    return;
                }
                phase(Phase.READY, now);
                guestUptimeAtReadyMs = BenchConsole.readyUptimeMs(line); // null from the stub guest: no clock
            }
            sampleMemory(readySampler);
        } else if (BenchConsole.isStopping(line)) {
            sampleMemory(stoppingSampler);
        }
    }

    /**
     * Reads /proc at a marker on a thread started with the run (no thread to make when the marker
     * comes): smaps of a QEMU takes the lab's slow JVM tens to hundreds of ms, and the console
     * reader must not fall behind the VMM meanwhile. One thread per marker, so a slow read at
     * ready does not hold up the one at stopping.
     */
    private final class Sampler {
        private final String when;
        private final Consumer<ProcMemory.Sample> keep;
        private final CountDownLatch go = new CountDownLatch(1);
        private volatile boolean cancelled;
        private final Thread thread;

        Sampler(String when, Consumer<ProcMemory.Sample> keep) {
            this.when = when;
            this.keep = keep;
            this.thread = daemon("peer-memory-" + when, this::await);
        }

        private void await() {
            try {
                go.await();
            } catch (InterruptedException e) {
                return;
            }
            if (cancelled) {
                return;
            }
            long start = System.nanoTime();
            ProcMemory.Sample s = ProcMemory.sample(pid, guestKib);
            synchronized (RunWatch.this) {
                keep.accept(s);
                note("memory read at " + when + " took (ms)", String.format(Locale.ROOT, "%.1f", (System.nanoTime() - start) / 1e6));
            }
        }
    }

    private void sampleMemory(Sampler s) {
        if (s != null) {
            s.go.countDown();
        }
    }

    /** Waits for the memory reads that began; the others will not (they end when /proc says the process is gone). */
    void joinSamplers() throws InterruptedException {
        List<Sampler> all;
        synchronized (this) {
            all = readySampler == null ? List.of() : List.of(readySampler, stoppingSampler);
        }
        for (Sampler s : all) {
            s.cancelled = s.go.getCount() > 0;
            s.go.countDown();
            s.thread.join(10_000);
        }
    }

    void readStderr(InputStream in) {
        try {
            byte[] buf = new byte[4096];
            int n;
            while ((n = in.read(buf)) > 0) {
                synchronized (this) {
                    stderr.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                    if (stderr.length() > 64 * 1024) {
                        stderr.delete(0, stderr.length() - 64 * 1024);
                    }
                }
            }
        } catch (IOException closed) {
            // the VMM went away
        }
    }

    /** The floor's own lines: its first KVM_RUN, boot timer and stop (CLOCK_MONOTONIC ns), and memory at exit. */
    synchronized void floorStderr() {
        for (String l : stderr.toString().split("\n")) {
            String[] f = l.trim().split(" ");
            if (f.length >= 3 && f[0].equals("floorvmm:") && f[2].matches("-?\\d+")) {
                switch (f[1]) {
                    case "first-kvm-run" -> phase(Phase.FIRST_KVM_RUN, Long.parseLong(f[2]));
                    case "boot-timer" -> note("boot timer (ms)", String.format(Locale.ROOT, "%.1f", (Long.parseLong(f[2]) - t0) / 1e6));
                    case "exit" -> {
                        if (f.length >= 4) {
                            phase(Phase.VM_STOPPED, Long.parseLong(f[3]));
                        }
                    }
                    default -> { }
                }
            } else if (f.length >= 4 && f[0].equals("floorvmm:") && f[1].equals("memory")
                    && f[2].matches("vmhwm-kib=\\d+") && f[3].matches("guest-resident-kib=\\d+")) {
                floorPeakKib = Long.parseLong(f[2].substring(f[2].indexOf('=') + 1));
                floorGuestKib = Long.parseLong(f[3].substring(f[3].indexOf('=') + 1));
                note("floor's own count at exit", String.join(" ", List.of(f).subList(2, f.length)));
            }
        }
    }

    /**
     * A reader or sampler thread of a run. It never dies silently: the run would only miss a
     * phase, so what ended the thread is said on stderr.
     */
    static Thread daemon(String name, Runnable r) {
        Thread t = new Thread(() -> {
            try {
                r.run();
            } catch (Throwable e) {
                System.err.println("jvmm: bench: " + name + " stopped: " + e);
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }
}
