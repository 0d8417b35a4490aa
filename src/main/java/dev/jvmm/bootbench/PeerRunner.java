package dev.jvmm.bootbench;

import dev.jvmm.images.HostTools;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

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

    private final PeerPaths paths;
    private final PrintStream consoleEcho;

    /** {@code consoleEcho}: where the guest's console is copied as it arrives, or null. */
    public PeerRunner(PeerPaths paths, PrintStream consoleEcho) {
        this.paths = paths;
        this.consoleEcho = consoleEcho;
        // Loads and warms the /proc readers now, not at the first ready line (the lab's JVM is slow to start code).
        ProcMemory.sample(ProcessHandle.current().pid(), Long.MAX_VALUE);
    }

    /**
     * The peers {@code bench} compares jvmm with, as BootBench runners by name, booting its
     * kernel, initrd and command line. {@code floorHugepages}: the floor madvises its RAM for huge
     * pages as jvmm and QEMU do (its own default is not to).
     */
    public static Map<String, BootBench.Runner> runners(BenchSpec bench, PeerPaths paths, boolean floorHugepages) {
        PeerRunner runner = new PeerRunner(paths, null);
        Spec spec = new Spec(bench.kernel(), bench.initrd(), bench.cmdline(), bench.memoryMib(), bench.cpus(),
                bench.timeoutSeconds(), floorHugepages, null, null);
        Map<String, BootBench.Runner> out = new LinkedHashMap<>();
        for (String name : bench.compare()) {
            PeerVmm vmm = PeerVmm.of(name);
            out.put(name, (index, warmup) -> runner.run(vmm, spec, index, warmup).run());
        }
        return out;
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
        RunWatch w = new RunWatch(spec.memoryMib() * 1024L, consoleEcho);
        ProcessBuilder pb = new ProcessBuilder(argv);
        long t0 = System.nanoTime();
        Process p = pb.start();
        w.start(t0, p.pid());
        if (vmm == PeerVmm.QEMU) {
            QemuTrace.switchOffAfterFirstRun(traceLog, monitor, p,
                    ok -> w.note("trace switched off after the first KVM_RUN", ok.toString()));
        }
        Thread console = RunWatch.daemon("peer-console", () -> w.readConsole(p.getInputStream()));
        Thread stderr = RunWatch.daemon("peer-stderr", () -> w.readStderr(p.getErrorStream()));
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
                w.note("VM set running -> first KVM_RUN (ms)", String.format(Locale.ROOT, "%.2f", (firstRun - running) / 1e6));
            }
            w.note("trace clock offset uncertainty (us)", String.format(Locale.ROOT, "%.1f", clocks.offsetErrorNanos() / 1e3));
        }
        int status = p.exitValue();
        if (failure == null && w.readyAt() == null) {
            failure = "no ready marker (exit status " + status + "); stderr: " + w.stderrTail();
        } else if (failure == null && status != 0) {
            failure = "exit status " + status + "; stderr: " + w.stderrTail();
        }
        ProcMemory.Sample mem = w.memory();
        ProcMemory.Sample self = w.floorSelfCount();
        if (vmm == PeerVmm.FLOOR && (mem.peakRssKib() == null || mem.guestResidentKib() == null)
                && self.peakRssKib() != null) {
            // The floor ends within ms of the exit register; when /proc was read too late its own
            // count at exit (VmHWM, mincore over guest RAM) is the same measure, taken from inside.
            w.note("memory", "the floor's own count (the /proc reads came too late)");
            mem = new ProcMemory.Sample(mem.peakRssKib() != null ? mem.peakRssKib() : self.peakRssKib(),
                    mem.guestResidentKib() != null ? mem.guestResidentKib() : self.guestResidentKib(), null, null);
        }
        BootRun run = new BootRun(vmm.key, index, warmup, w.phases(), w.guestRunInitMs(), w.guestUptimeAtReadyMs(),
                mem.peakRssKib(), mem.guestResidentKib(), status, failure);
        return new Result(run, w.notes(), w.consoleTail());
    }
}
