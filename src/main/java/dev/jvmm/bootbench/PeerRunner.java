package dev.jvmm.bootbench;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import dev.jvmm.images.HostTools;

/**
 * Starts one peer VMM (QEMU microvm or the C floor) on a bench boot and measures it from
 * outside into a {@link BootRun}: the start instant is System.nanoTime() (CLOCK_MONOTONIC) just
 * before ProcessBuilder.start(); console bytes are timestamped as they arrive; the first KVM_RUN
 * comes from the floor's own stderr line or QEMU's trace ({@link QemuTrace}); memory is read
 * from /proc at the ready line and at the stopping line ({@link ProcMemory}).
 */
public final class PeerRunner {
    /**
     * What to boot and how.
     *
     * @param qemuMachine the -M value (null: {@link #QEMU_MACHINE})
     * @param qemuAccel   the -accel value (null: {@link #QEMU_ACCEL})
     */
    public record Spec(Path kernel, Path initrd, String cmdline, int memoryMib, int cpus, int timeoutSeconds,
                       boolean floorHugepages, String qemuMachine, String qemuAccel) {}

    /** A run's BootRun, with what else was seen (for people, not statistics) and the console's tail. */
    public record Result(BootRun run, Map<String, String> notes, String consoleTail) {}

    /**
     * microvm as close to jvmm's machine as it goes: no option ROMs (qboot loads the kernel), no
     * RTC (jvmm has none), one IOAPIC (jvmm has one; microvm adds a second with ACPI), no PCIe;
     * its defaults kept where jvmm has the same: ACPI (jvmm writes tables, and poweroff needs
     * them), PIT, PIC, ISA serial.
     */
    public static final String QEMU_MACHINE = "microvm,x-option-roms=off,rtc=off,ioapic2=off,pcie=off";
    /** KVM with PIC, IOAPIC and PIT in the kernel, as jvmm has them (microvm's default is a split irqchip). */
    public static final String QEMU_ACCEL = "kvm,kernel-irqchip=on";
    static final int CONSOLE_TAIL = 16 * 1024;

    private final PeerPaths paths;
    private final PrintStream consoleEcho;

    /** {@code consoleEcho}: where the guest's console is copied as it arrives, or null. */
    public PeerRunner(PeerPaths paths, PrintStream consoleEcho) {
        this.paths = paths;
        this.consoleEcho = consoleEcho;
    }

    public List<String> argv(PeerVmm vmm, Spec s, Path traceLog, Path monitor) {
        List<String> a = new ArrayList<>();
        if (vmm == PeerVmm.FLOOR) {
            if (s.cpus() != 1) {
                throw new IllegalArgumentException("the floor VMM runs one vCPU; --cpus " + s.cpus() + " needs jvmm or qemu");
            }
            a.addAll(List.of(paths.floor().toString(), "-k", s.kernel().toString(), "-c", s.cmdline(), "-m",
                    Integer.toString(s.memoryMib())));
            if (s.initrd() != null) {
                a.addAll(List.of("-i", s.initrd().toString()));
            }
            if (s.floorHugepages()) {
                a.add("-H");
            }
            return a;
        }
        a.addAll(List.of(paths.qemu().toString(), "-L", paths.qemuFirmware().toString(),
                "-M", s.qemuMachine() != null ? s.qemuMachine() : QEMU_MACHINE,
                "-accel", s.qemuAccel() != null ? s.qemuAccel() : QEMU_ACCEL, "-cpu", "host",
                "-m", Integer.toString(s.memoryMib()), "-smp", Integer.toString(s.cpus()),
                "-nodefaults", "-no-user-config", "-nographic", "-no-reboot", "-serial", "stdio",
                "-kernel", s.kernel().toString(), "-append", s.cmdline()));
        if (s.initrd() != null) {
            a.addAll(List.of("-initrd", s.initrd().toString()));
        }
        a.addAll(List.of("-msg", "timestamp=on", "-trace", QemuTrace.EVENT, "-trace", QemuTrace.VM_STATE_EVENT, "-D", traceLog.toString(),
                "-monitor", "unix:" + monitor + ",server=on,wait=off"));
        return a;
    }

    /** Boots once; {@code index} and {@code warmup} go into the BootRun as they are. */
    public Result run(PeerVmm vmm, Spec spec, int index, boolean warmup) throws IOException, InterruptedException {
        String missing = paths.missing(vmm);
        if (missing != null) {
            throw new IOException(vmm + ": " + missing);
        }
        Path work = Files.createTempDirectory("jvmm-peer");
        try {
            return run(vmm, spec, index, warmup, work);
        } finally {
            HostTools.deleteTree(work);
        }
    }

    private Result run(PeerVmm vmm, Spec spec, int index, boolean warmup, Path work)
            throws IOException, InterruptedException {
        Path traceLog = work.resolve("qemu-trace.log");
        Path monitor = work.resolve("monitor.sock");
        List<String> argv = argv(vmm, spec, traceLog, monitor);
        QemuTrace clocks = vmm == PeerVmm.QEMU ? QemuTrace.measureClocks() : null;
        Watch w = new Watch(spec.memoryMib() * 1024L);
        ProcessBuilder pb = new ProcessBuilder(argv);
        long t0 = System.nanoTime();
        Process p = pb.start();
        w.start(t0, p.pid());
        if (vmm == PeerVmm.QEMU) {
            QemuTrace.switchOffAfterFirstRun(traceLog, monitor, p,
                    ok -> w.note("trace switched off after the first KVM_RUN", ok.toString()));
        }
        Thread console = daemon("peer-console", () -> w.readConsole(p.getInputStream()));
        Thread stderr = daemon("peer-stderr", () -> w.readStderr(p.getErrorStream()));
        boolean exited = p.waitFor(spec.timeoutSeconds(), TimeUnit.SECONDS);
        long end = System.nanoTime();
        String failure = null;
        if (!exited) {
            p.destroyForcibly();
            p.waitFor();
            failure = "timeout: no exit within " + spec.timeoutSeconds() + " s (reached: " + w.lastPhase() + ")";
        }
        console.join(5000);
        stderr.join(5000);
        w.joinSamplers();
        w.phase(Phase.EXITED, end);
        if (vmm == PeerVmm.FLOOR) {
            w.floorStderr();
        } else {
            String log = QemuTrace.readLog(traceLog);
            Long firstRun = clocks.firstKvmRunNanos(log);
            if (firstRun != null) {
                w.phase(Phase.FIRST_KVM_RUN, firstRun);
            }
            w.note("KVM_RUN calls traced", Integer.toString(QemuTrace.kvmRuns(log)));
            Long running = clocks.vmRunningNanos(log);
            if (running != null && firstRun != null) {
                w.note("VM set running -> first KVM_RUN (ms)", String.format("%.2f", (firstRun - running) / 1e6));
            }
            w.note("trace clock offset uncertainty (us)", String.format("%.1f", clocks.offsetErrorNanos() / 1e3));
        }
        int status = p.exitValue();
        if (failure == null && w.readyAt() == null) {
            failure = "no ready marker (exit status " + status + "); stderr: " + w.stderrTail();
        } else if (failure == null && status != 0) {
            failure = "exit status " + status + "; stderr: " + w.stderrTail();
        }
        ProcMemory.Sample mem = w.memory();
        BootRun run = new BootRun(vmm.key, index, warmup, w.phases(), w.guestRunInitMs, w.guestUptimeAtReadyMs,
                mem.peakRssKib(), mem.guestResidentKib(), status, failure);
        return new Result(run, w.notes(), w.consoleTail());
    }

    private static Thread daemon(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** What one run's two reader threads and the caller see; everything under its lock. */
    private final class Watch {
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
        private final List<Thread> samplers = new ArrayList<>();

        Watch(long guestKib) {
            this.guestKib = guestKib;
        }

        synchronized void start(long t0, long pid) {
            this.t0 = t0;
            this.pid = pid;
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
            } else if ((uptime = BenchConsole.readyUptimeMs(line)) != null) {
                synchronized (this) {
                    if (phases.containsKey(Phase.READY)) {
                        return;
                    }
                    phase(Phase.READY, now);
                    guestUptimeAtReadyMs = uptime;
                }
                sampleMemory("ready", s -> atReady = s);
            } else if (BenchConsole.isStopping(line)) {
                sampleMemory("stopping", s -> atStopping = s);
            }
        }

        /**
         * Reads /proc on a thread of its own: smaps of a QEMU takes the lab's slow JVM tens to
         * hundreds of ms, and the console reader must not fall behind the VMM meanwhile.
         */
        private void sampleMemory(String when, Consumer<ProcMemory.Sample> keep) {
            Thread t = daemon("peer-memory-" + when, () -> {
                long start = System.nanoTime();
                ProcMemory.Sample s = ProcMemory.sample(pid, guestKib);
                synchronized (this) {
                    keep.accept(s);
                    note("memory read at " + when + " took (ms)", String.format("%.1f", (System.nanoTime() - start) / 1e6));
                }
            });
            synchronized (this) {
                samplers.add(t);
            }
        }

        /** Waits for the memory readers (they end when /proc says the process is gone, if not before). */
        void joinSamplers() throws InterruptedException {
            List<Thread> all;
            synchronized (this) {
                all = new ArrayList<>(samplers);
            }
            for (Thread t : all) {
                t.join(10_000);
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
                if (f.length >= 3 && f[0].equals("floorvmm:")) {
                    switch (f[1]) {
                        case "first-kvm-run" -> phase(Phase.FIRST_KVM_RUN, Long.parseLong(f[2]));
                        case "boot-timer" -> note("boot timer (ms)", String.format("%.1f", (Long.parseLong(f[2]) - t0) / 1e6));
                        case "exit" -> {
                            if (f.length >= 4) {
                                phase(Phase.VM_STOPPED, Long.parseLong(f[3]));
                            }
                        }
                        case "memory" -> note("floor's own count at exit", String.join(" ", List.of(f).subList(2, f.length)));
                        default -> { }
                    }
                }
            }
        }
    }
}
