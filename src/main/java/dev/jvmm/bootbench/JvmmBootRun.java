package dev.jvmm.bootbench;

import dev.jvmm.machine.ConsoleOutput;
import dev.jvmm.machine.Pass;
import dev.jvmm.machine.Startup;
import dev.jvmm.machine.Timeline;
import dev.jvmm.machine.TimelineText;
import dev.jvmm.machine.Vm;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One measured jvmm boot: a fresh jvmm process (`jvmm boot ... --timeline`), started with this
 * process's monotonic clock reading in JVMM_T0_MONO_NS so its phases count from the real start;
 * the phases up to the first KVM_RUN, the boot timer and the stop come from its printed timeline;
 * the console's (first byte, Run /init, the ready line) and the guest's clock from reading its
 * console through a pipe as it arrives, with the same reader as QEMU's and the floor's, so that
 * "ready" is one event measured one way for every VMM; the exit from waiting for it here. An
 * image boot runs on a scratch copy (the image never changes) with {@code --exec true}, which
 * powers the guest off once its agent is ready.
 */
final class JvmmBootRun {
    /** Timeline marks per phase (prefixes; an image boot's are per firmware pass, "boot 1: ..."). */
    static final Map<Phase, String> MARKS = new EnumMap<>(Map.ofEntries(
            Map.entry(Phase.JVM_MAIN, Timeline.JVM_MAIN),
            Map.entry(Phase.PARSED, "jvmm command line parsed"),
            Map.entry(Phase.VM_CREATED, Vm.VM_CREATED),
            Map.entry(Phase.MEMORY_MAPPED, Vm.MEMORY_MAPPED),
            Map.entry(Phase.FIRMWARE_PASS, "firmware pass"),
            Map.entry(Phase.KERNEL_LOADED, "kernel loaded"),
            Map.entry(Phase.FIRST_KVM_RUN, Vm.FIRST_KVM_RUN),
            Map.entry(Phase.FIRST_CONSOLE_BYTE, "first console byte"),
            Map.entry(Phase.RUN_INIT, "kernel: runs /init"),
            Map.entry(Phase.BOOT_TIMER, "guest ready (boot timer)"),
            Map.entry(Phase.AGENT_READY, Pass.AGENT_READY),
            Map.entry(Phase.VM_STOPPED, "VM stopped")));

    /** ConsoleOutput's mark for the bench init's first line: "Run /init" when the kernel is quiet. */
    static final String INIT_STARTED = ConsoleOutput.INIT_STARTED;

    private JvmmBootRun() {}

    /** jvmm's arguments for one run of {@code spec} (after `jvmm`). */
    static List<String> arguments(BenchSpec spec, Path disk) {
        List<String> args = new ArrayList<>(List.of("boot", "--lab=never", "--timeline", "--no-rng", "--mem",
                Integer.toString(spec.memoryMib()), "--cpus", Integer.toString(spec.cpus()), "--timeout",
                Integer.toString(spec.timeoutSeconds())));
        if (!spec.unpackKernel()) {
            args.add("--no-unpack-kernel");
        }
        if (disk != null) {
            args.add(1, disk.toString());
            args.addAll(List.of("--exec", "true"));
        } else {
            args.addAll(List.of("--kernel", spec.kernel().toString(), "--cmdline", spec.cmdline()));
            if (spec.initrd() != null) {
                args.addAll(List.of("--initrd", spec.initrd().toString()));
            }
        }
        return args;
    }

    static BootRun run(BenchSpec spec, JvmmChild jvmm, Path workDir, int index, boolean warmup)
            throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory(workDir, "jvmm-run-");
        try {
            Path disk = null;
            if (spec.image() != null) {
                String name = spec.image().getFileName().toString();
                disk = name.endsWith(".lz4") ? spec.image() : dir.resolve(name); // jvmm copies an .lz4 itself
                if (!name.endsWith(".lz4")) {
                    Files.copy(spec.image(), disk, StandardCopyOption.REPLACE_EXISTING);
                }
            }
            List<String> argv = jvmm.command(spec, disk, dir);
            Path stderr = dir.resolve("stderr.log");
            ProcessBuilder pb = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectError(stderr.toFile());
            pb.environment().remove(Startup.ENV_EPOCH);
            RunWatch watch = new RunWatch(0, null);
            long t0 = System.nanoTime();
            pb.environment().put(Startup.ENV_MONO, Long.toString(t0));
            Process p = pb.start();
            watch.startConsoleOnly(t0);
            Thread console = RunWatch.daemon("jvmm-console", () -> watch.readConsole(p.getInputStream()));
            boolean ended = p.waitFor(spec.timeoutSeconds() + 60L, TimeUnit.SECONDS);
            long exited = System.nanoTime();
            if (!ended) {
                p.destroyForcibly();
                p.waitFor();
            }
            console.join(5000);
            String errText = Files.readString(stderr, StandardCharsets.ISO_8859_1);
            return toRun(index, warmup, p.exitValue(), ended ? (exited - t0) / 1e6 : null, errText,
                    spec.image() != null, watch.phases(), watch.guestRunInitMs(), watch.guestUptimeAtReadyMs());
        } finally {
            deleteTree(dir);
        }
    }

    /**
     * A BootRun from what the child printed and what its console reader timed and read of the
     * guest's clock; the failure says what was missing or wrong. An image boot has no bench init:
     * its ready is the boot timer.
     */
    static BootRun toRun(int index, boolean warmup, int status, Double exitedMs, String err, boolean image,
                         Map<Phase, Double> consolePhases, Double guestRunInitMs, Double guestReadyUptimeMs) {
        Map<Phase, Double> phases = new EnumMap<>(Phase.class);
        TimelineText.Parsed t = TimelineText.parse(err);
        if (t != null) {
            MARKS.forEach((phase, mark) -> {
                Double ms = image ? t.millisOf(1, mark) : t.millisOf(mark);
                if (ms != null) {
                    phases.put(phase, ms);
                }
            });
        }
        if (!phases.containsKey(Phase.RUN_INIT) && t != null) {
            Double init = image ? t.millisOf(1, INIT_STARTED) : t.millisOf(INIT_STARTED); // a quiet kernel
            if (init != null) {
                phases.put(Phase.RUN_INIT, init);
            }
        }
        if (image) {
            if (phases.containsKey(Phase.BOOT_TIMER)) {
                phases.put(Phase.READY, phases.get(Phase.BOOT_TIMER));
            }
        } else {
            for (Phase p : List.of(Phase.FIRST_CONSOLE_BYTE, Phase.RUN_INIT, Phase.READY)) {
                if (consolePhases.containsKey(p)) {
                    phases.put(p, consolePhases.get(p));
                }
            }
        }
        if (exitedMs != null) {
            phases.put(Phase.EXITED, exitedMs);
        }
        String failure = null;
        if (exitedMs == null) {
            failure = "did not end within --timeout + 60 s";
        } else if (t == null) {
            failure = "no timeline (status " + status + "): " + lastLine(err);
        } else if (!phases.containsKey(Phase.READY)) {
            failure = (phases.containsKey(Phase.BOOT_TIMER) ? "no ready line on the console" : "never ready")
                    + " (status " + status + "): " + lastLine(err);
        } else if (status != 0) {
            failure = "exit status " + status + ": " + lastLine(err);
        }
        Long peak = t == null || t.peakRssKib() < 0 ? null : t.peakRssKib();
        Long touched = t == null || t.guestResidentKib() < 0 ? null : t.guestResidentKib();
        return new BootRun("jvmm", index, warmup, phases, guestRunInitMs, guestReadyUptimeMs, peak, touched,
                status, failure);
    }

    private static String lastLine(String text) {
        String[] lines = text.strip().split("\r?\n");
        for (int i = lines.length - 1; i >= 0; i--) {
            String l = lines[i].strip();
            if (l.startsWith("jvmm")) {
                return l;
            }
        }
        return lines.length == 0 ? "" : lines[lines.length - 1].strip();
    }

    static void deleteTree(Path dir) {
        if (dir == null) {
            return;
        }
        try (var s = Files.walk(dir)) {
            s.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory left behind
        }
    }
}
