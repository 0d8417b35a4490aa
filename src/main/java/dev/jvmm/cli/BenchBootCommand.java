package dev.jvmm.cli;

import dev.jvmm.boot.KernelFiles;
import dev.jvmm.bootbench.BenchInit;
import dev.jvmm.bootbench.BenchJson;
import dev.jvmm.bootbench.BenchReport;
import dev.jvmm.bootbench.BenchSpec;
import dev.jvmm.bootbench.BenchSummary;
import dev.jvmm.bootbench.BootBench;
import dev.jvmm.bootbench.BootRun;
import dev.jvmm.bootbench.FloorVmm;
import dev.jvmm.bootbench.PeerArchive;
import dev.jvmm.bootbench.PeerPaths;
import dev.jvmm.bootbench.PeerRunner;
import dev.jvmm.bootbench.Progress;
import dev.jvmm.bootbench.StubGuest;
import dev.jvmm.images.HostTools;
import dev.jvmm.images.firmware.BootChoice;
import dev.jvmm.images.firmware.Firmware;
import dev.jvmm.lab.Lab;
import dev.jvmm.machine.Architectures;
import dev.jvmm.machine.DeviceSpecs;
import dev.jvmm.machine.Drives;
import dev.jvmm.machine.ExitCodes;
import dev.jvmm.machine.JvmmCommand;
import dev.jvmm.machine.MachineConfig;
import dev.jvmm.machine.Machine;
import dev.jvmm.machine.arch.Arch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code jvmm bench boot}: boot latency run after run, phase by phase, against QEMU microvm and a
 * minimal C VMM when asked. Where the host has no hardware KVM every run happens inside one lab
 * L1 (so TCG's speed is the same for all); the inner command hands each run out as a
 * JVMM-LAB-DATA line, and this side keeps the progress, the summary and the reports.
 */
@Command(name = "boot", mixinStandardHelpOptions = true,
        description = {"Measure boot latency: each run a fresh VMM process, phases in ms from its start (JVM entered main,"
                + " command parsed, VM created, memory mapped, firmware pass, kernel loaded, first KVM_RUN, first console"
                + " byte, Run /init, guest ready, agent ready, VM stopped, exited), the guest's own clock, peak RSS.",
                "--compare qemu,floor interleaves QEMU microvm and a minimal C VMM on the same kernel, initrd, memory,"
                        + " vCPUs and command line (an IMAGE cannot be booted by them without firmware: compare its kernel)."},
        footer = {"", ExitCodes.HELP})
final class BenchBootCommand implements Callable<Integer> {
    /** The bench guest's command line: jvmm's default, quiet (every console byte is a port exit). */
    static final String QUIET_CMDLINE = MachineConfig.DEFAULT_CMDLINE + " quiet";

    @Parameters(index = "0", arity = "0..1", paramLabel = "IMAGE", description = "a container-OS image (.img or .img.lz4)")
    Path image;

    @Option(names = "--kernel", paramLabel = "PATH", description = "bzImage or vmlinux (default with no IMAGE: jvmm's guest kernel)")
    Path kernel;

    @Option(names = "--initrd", paramLabel = "PATH",
            description = "initramfs (default: the bench init, which prints its uptime, writes the boot timer and stops the VMM)")
    Path initrd;

    @Option(names = "--stub", description = {"boot jvmm's stub guest instead of a Linux: 310 bytes that print the ready"
            + " line and stop, so the runs time jvmm alone (start, set-up, first KVM_RUN, teardown, memory); it runs"
            + " on any /dev/kvm, PVM's too (no lab unless there is none); jvmm only, no --compare"})
    boolean stub;

    @Option(names = "--unpack-kernel", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = {"jvmm loads a gzip or xz bzImage's kernel unpacked on the host, once, then from its cache"
                    + " (jvmm's default; the others' guests run the bzImage's decompressor at each boot);"
                    + " --no-unpack-kernel gives jvmm's guest the decompressor too"})
    boolean unpackKernel = true;

    @Option(names = "--append", paramLabel = "STR", description = "added to the command line (" + QUIET_CMDLINE + ")")
    String append;

    @Option(names = "--log", paramLabel = "quiet|full", defaultValue = "quiet",
            description = "the guest kernel's console log: quiet (default; the init's first line stands for Run /init) or full")
    String log;

    @Option(names = "--mem", paramLabel = "MIB", defaultValue = "256", description = "guest memory (default ${DEFAULT-VALUE})")
    int memoryMib;

    @Option(names = "--cpus", paramLabel = "N", defaultValue = "1", description = "vCPUs (default ${DEFAULT-VALUE})")
    int cpus;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "10", description = "measured runs per VMM (default ${DEFAULT-VALUE})")
    int runs;

    @Option(names = "--warmup", paramLabel = "W", defaultValue = "1", description = "warm-up runs per VMM, not counted (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--compare", paramLabel = "qemu[,floor]", split = ",", description = "other VMMs, interleaved with jvmm")
    List<String> compare = new ArrayList<>();

    @Option(names = "--timeout", paramLabel = "SEC", defaultValue = "180", description = "per run (default ${DEFAULT-VALUE})")
    int timeoutSeconds;

    @Option(names = "--json", paramLabel = "FILE", description = "every run, the summary and the environment as JSON")
    Path json;

    @Option(names = "--csv", paramLabel = "FILE", description = "every run as a CSV row")
    Path csv;

    @Option(names = "--plot", paramLabel = "FILE.svg", description = "median phases per VMM as stacked bars, and every run's time to ready")
    Path plot;

    @Option(names = "--lab", paramLabel = "MODE", defaultValue = "auto", description = "auto (when the host has no hardware KVM), always, never")
    LabMode lab;

    /** Inside the lab: hand each run out as a JVMM-LAB-DATA line instead of reporting. */
    @Option(names = "--emit-runs", hidden = true)
    boolean emitRuns;

    @Override
    public Integer call() throws Exception {
        if (!log.equals("quiet") && !log.equals("full")) {
            throw new IllegalArgumentException("--log is quiet or full, not " + log);
        }
        if (image != null && (kernel != null || initrd != null)) {
            throw new IllegalArgumentException("give an IMAGE or --kernel, not both");
        }
        if (stub && (image != null || kernel != null || initrd != null || !compare.isEmpty())) {
            throw new IllegalArgumentException("--stub boots jvmm's stub guest alone: no IMAGE, --kernel, --initrd or --compare");
        }
        if (stub) {
            kernel = StubGuest.writeCached();
        }
        String imageNote = null;
        if (image != null && !compare.isEmpty()) {
            // QEMU and the floor have no firmware to boot a whole disk: every VMM boots the image's kernel.
            Machine.checkInput(image, "image");
            BootChoice choice = Firmware.inspect(Drives.resolve(new DeviceSpecs.Drive(image, true, null, null, List.of()),
                    System.err).path());
            kernel = Files.createTempFile("jvmm-bench-kernel", ".bin");
            kernel.toFile().deleteOnExit();
            Files.write(kernel, choice.kernel());
            imageNote = image + ": " + choice.layout().cliName() + " slot " + choice.slot() + " v" + choice.version();
            System.err.println("jvmm: QEMU and the floor cannot boot " + image.getFileName() + " without firmware;"
                    + " comparing the boot of its kernel (" + choice.layout().cliName() + " slot " + choice.slot()
                    + ", read as jvmm's firmware would) with the bench init instead");
            image = null;
        }
        if (image != null) {
            Machine.checkInput(image, "image");
        } else {
            kernel = kernel != null ? kernel : Guest.defaultKernel();
            Machine.checkInput(kernel, "kernel");
            if (!stub) {
                initrd = initrd != null ? initrd : BenchInit.buildCached();
                Machine.checkInput(initrd, "initrd");
            }
        }
        if (!emitRuns) {
            // Every VMM here boots x86_64 guests (the floor and its command line, QEMU microvm, the x86 lab).
            byte[] guestKernel = image != null ? Firmware.inspect(Drives.resolve(new DeviceSpecs.Drive(image, true, null,
                    null, List.of()), System.err).path()).kernel() : KernelFiles.readKernel(kernel);
            Arch guest = Architectures.ofKernel(guestKernel, Arch.host());
            if (guest != Arch.x86_64 || Arch.host() != Arch.x86_64) {
                throw new IllegalArgumentException("jvmm bench boot times x86_64 guests on an x86_64 host; this is an "
                        + guest + " guest (its boot time: jvmm boot ... --timeline)");
            }
        }
        String base = log.equals("quiet") ? QUIET_CMDLINE : MachineConfig.DEFAULT_CMDLINE;
        String cmdline = append == null ? base : base + " " + append;
        BenchSpec spec = new BenchSpec(image == null ? kernel : null, image == null ? initrd : null,
                image == null ? cmdline : null, image, memoryMib, cpus, runs, warmup, compare, timeoutSeconds,
                unpackKernel);
        Map<String, String> environment = environment(spec);
        environment.put("kernel_of_image", imageNote);
        List<BootRun> runs;
        environment.put("guest", stub ? "jvmm's stub guest (no Linux: times the VMM alone)" : null);
        // The stub's few instructions run on any /dev/kvm (PVM's emulates them); a Linux needs hardware KVM.
        boolean inLab = !emitRuns && (stub ? Guest.tinyGuestsInLab(lab, "stub-guest bench", System.err)
                : Guest.useLab(lab, System.err));
        if (inLab) {
            environment.put("where", "lab (inside one L1: QEMU TCG with nested SVM)");
            runs = inLab(spec);
        } else {
            environment.put("where", emitRuns ? "lab (inside one L1: QEMU TCG with nested SVM)" : "host");
            runs = here(spec);
        }
        if (emitRuns) {
            return 0;
        }
        BenchSummary summary = BenchReport.write(runs, environment, json, csv, plot);
        System.out.print(summary.render());
        System.out.flush();
        return runs.stream().anyMatch(r -> !r.warmup() && r.ok()) ? 0 : ExitCodes.INTERNAL_ERROR;
    }

    /** Every run on this machine's KVM; with --emit-runs (inside L1) each run also goes out as a console marker. */
    private List<BootRun> here(BenchSpec spec) throws IOException, InterruptedException {
        Path jar = Path.of(Lab.ownJarOrEmpty());
        if (!emitRuns) {
            JvmmCommand.ClassDataArchive.ensure(jar, System.err);
        }
        Path work = Files.createTempDirectory("jvmm-bench");
        try (Progress progress = emitRuns ? null : Progress.start(spec.totalRuns(), System.err)) {
            PrintStream out = System.out;
            return BootBench.run(spec, jar, work, peers(spec), r -> {
                if (emitRuns) {
                    out.println("JVMM-LAB-DATA=" + BenchJson.runLine(r));
                    out.flush();
                } else {
                    progress.step(r);
                }
            });
        } finally {
            HostTools.deleteTree(work);
        }
    }

    /** The whole benchmark inside one L1: files travel in, runs come back out as markers. */
    private List<BootRun> inLab(BenchSpec spec) throws IOException, InterruptedException {
        Lab.Attachments files = new Lab.Attachments();
        List<String> inner = new ArrayList<>(List.of("bench", "boot", "--lab=never", "--emit-runs", "--mem",
                Integer.toString(spec.memoryMib()), "--cpus", Integer.toString(spec.cpus()), "--runs",
                Integer.toString(spec.runs()), "--warmup", Integer.toString(spec.warmup()), "--timeout",
                Integer.toString(spec.timeoutSeconds()), "--log", log));
        if (append != null) {
            inner.addAll(List.of("--append", append));
        }
        if (!spec.compare().isEmpty()) {
            inner.addAll(List.of("--compare", String.join(",", spec.compare())));
        }
        if (!spec.unpackKernel()) {
            inner.add("--no-unpack-kernel");
        }
        if (stub) {
            inner.add("--stub");
        } else if (spec.image() != null) {
            inner.add(files.attach(spec.image()));
        } else {
            inner.addAll(List.of("--kernel", files.attach(spec.kernel()), "--initrd", files.attach(spec.initrd())));
        }
        List<BootRun> runs = new ArrayList<>();
        // Each run's scratch image (and QEMU's memory) lives in L1's RAM beside the guest's.
        long imageMib = spec.image() == null ? 0 : Files.size(spec.image()) >> 20;
        int l1GuestMib = (int) (spec.memoryMib() + imageMib + (spec.compare().isEmpty() ? 0 : 128));
        try (Progress progress = Progress.start(spec.totalRuns(), System.err)) {
            Lab.Request req = new Lab.Request(inner, files.map(), l1GuestMib, spec.cpus(),
                    (spec.timeoutSeconds() + 60) * spec.totalRuns() + 600, false).withData(line -> {
                        BootRun r = BenchJson.parseRun(line);
                        synchronized (runs) {
                            runs.add(r);
                        }
                        progress.step(r);
                    });
            if (!spec.compare().isEmpty()) {
                Lab lab = Guest.lab(System.err);
                req = req.withExtraArchives(List.of(PeerArchive.buildCached(FloorVmm.buildCached(), lab.baseLibraries())));
            }
            // The lab's console (the runs' own consoles stay inside) goes nowhere: the progress bar speaks.
            int rc = Guest.lab(System.err).run(req, InputStream.nullInputStream(), OutputStream.nullOutputStream());
            if (rc != 0) {
                System.err.println("jvmm: the benchmark in the lab ended with status " + rc);
            }
        }
        synchronized (runs) {
            return List.copyOf(runs);
        }
    }

    /**
     * QEMU and the floor where they are: packed into L1 (inside the lab) or the host's QEMU and the
     * floor from jvmm's cache. The floor advises huge pages for its guest RAM, as jvmm and QEMU do,
     * so the guests of all three get the same memory.
     */
    private Map<String, BootBench.Runner> peers(BenchSpec spec) throws IOException, InterruptedException {
        if (spec.compare().isEmpty()) {
            return Map.of();
        }
        PeerPaths paths = emitRuns ? PeerPaths.IN_LAB
                : new PeerPaths(PeerPaths.HOST_QEMU, PeerPaths.HOST_QEMU_FIRMWARE, FloorVmm.buildCached());
        return PeerRunner.runners(spec, paths, true);
    }

    private Map<String, String> environment(BenchSpec spec) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("jvmm", "0.1.0");
        env.put("java", System.getProperty("java.version"));
        env.put("host_cpus", Integer.toString(Runtime.getRuntime().availableProcessors()));
        env.put("kernel", spec.kernel() == null ? null : spec.kernel().toString());
        env.put("initrd", spec.initrd() == null ? null : spec.initrd().toString());
        env.put("image", spec.image() == null ? null : spec.image().toString());
        env.put("cmdline", spec.cmdline());
        env.put("mem_mib", Integer.toString(spec.memoryMib()));
        env.put("cpus", Integer.toString(spec.cpus()));
        env.put("runs", Integer.toString(spec.runs()));
        env.put("warmup", Integer.toString(spec.warmup()));
        env.put("compare", String.join(",", spec.compare()));
        env.put("jvmm_kernel", spec.unpackKernel() ? "a bzImage's kernel unpacked by jvmm (cached)"
                : "the bzImage's decompressor in the guest");
        return env;
    }
}
