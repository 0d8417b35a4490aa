package dev.jvmm.cli;

import dev.jvmm.bootbench.BenchInit;
import dev.jvmm.bootbench.BenchJson;
import dev.jvmm.bootbench.BootRun;
import dev.jvmm.bootbench.FloorVmm;
import dev.jvmm.bootbench.Phase;
import dev.jvmm.bootbench.PeerArchive;
import dev.jvmm.bootbench.PeerPaths;
import dev.jvmm.bootbench.PeerRunner;
import dev.jvmm.bootbench.PeerVmm;
import dev.jvmm.lab.Lab;
import dev.jvmm.machine.MachineConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * The peer half of {@code jvmm bench boot --compare}, runnable on its own: boots QEMU microvm
 * and/or the C floor on the same kernel, initrd and command line, run after run interleaved, and
 * gives each boot as a BootRun (JSON). Where the host has no hardware KVM it does so inside ONE
 * lab L1, the peers packed into L1's initramfs; the inner command hands each run out as a lab
 * data line (JVMM-LAB-DATA=, BenchJson's one-line form), which the outer one collects.
 */
@Command(name = "bench-peer", hidden = true, mixinStandardHelpOptions = true,
        description = {"Boots QEMU microvm and/or the minimal C VMM (the floor) on a bench guest and measures each boot"
                + " (phases in ms from the VMM process's start, guest clocks, memory) as BootRun JSON."})
final class BenchPeerCommand implements Callable<Integer> {
    /** How an inner command hands a result out of the lab (LabMarkers takes such lines out of the console). */
    static final String LAB_DATA = "JVMM-LAB-DATA=";

    @Option(names = "--vmm", split = ",", required = true, paramLabel = "qemu|floor", description = "peers, in run order")
    List<String> vmms;

    @Option(names = "--kernel", paramLabel = "BZIMAGE", description = "default: jvmm's guest kernel")
    Path kernel;

    @Option(names = "--initrd", paramLabel = "PATH", description = "default: the bench initramfs (ready marker, then stop)")
    Path initrd;

    @Option(names = "--cmdline", paramLabel = "STR", description = "default: ${DEFAULT-VALUE}",
            defaultValue = MachineConfig.DEFAULT_CMDLINE)
    String cmdline;

    @Option(names = "--mem", paramLabel = "MIB", defaultValue = "256")
    int memoryMib;

    @Option(names = "--cpus", paramLabel = "N", defaultValue = "1")
    int cpus;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "1", description = "boots of each peer, interleaved")
    int runs;

    @Option(names = "--timeout", paramLabel = "SEC", defaultValue = "180", description = "per boot")
    int timeoutSeconds;

    @Option(names = "--json", paramLabel = "FILE", description = "write the runs as a JSON array")
    Path json;

    @Option(names = "--hugepages", description = "the floor madvises its guest RAM for huge pages, as QEMU does")
    boolean hugepages;

    @Option(names = "--console", description = "copy each guest's console to stderr")
    boolean console;

    @Option(names = "--qemu-machine", paramLabel = "STR", description = "QEMU -M (default " + PeerRunner.QEMU_MACHINE + ")")
    String qemuMachine;

    @Option(names = "--qemu-accel", paramLabel = "STR", description = "QEMU -accel (default " + PeerRunner.QEMU_ACCEL + ")")
    String qemuAccel;

    @Option(names = "--lab", defaultValue = "auto", description = "auto (when there is no hardware KVM), always, never")
    LabMode lab;

    @Option(names = "--qemu", hidden = true)
    Path qemu;

    @Option(names = "--qemu-firmware", hidden = true)
    Path qemuFirmware;

    @Option(names = "--floor", hidden = true)
    Path floor;

    @Option(names = "--lab-data", hidden = true, description = "(inside the lab) hand each run out as a lab data line")
    boolean labData;

    @Override
    public Integer call() throws Exception {
        List<PeerVmm> peers = vmms.stream().map(PeerVmm::of).toList();
        if (peers.contains(PeerVmm.FLOOR) && cpus != 1) {
            throw new IllegalArgumentException("the floor VMM runs one vCPU; --cpus " + cpus + " needs --vmm qemu");
        }
        if (runs < 1 || memoryMib < 32 || memoryMib > 3072) {
            throw new IllegalArgumentException("--runs must be at least 1 and --mem 32 to 3072");
        }
        Path k = kernel != null ? kernel : Guest.defaultKernel();
        Path i = initrd != null ? initrd : BenchInit.buildCached();
        for (Path p : List.of(k, i)) {
            if (!Files.isReadable(p)) {
                throw new IllegalArgumentException("cannot read " + p);
            }
        }
        List<BootRun> results = Guest.useLab(lab, System.err) ? inLab(k, i) : here(peers, k, i);
        if (json != null) {
            Files.writeString(json, jsonArray(results));
        }
        boolean all = results.size() == runs * peers.size() && results.stream().allMatch(BootRun::ok);
        return all ? 0 : 1;
    }

    private List<BootRun> here(List<PeerVmm> peers, Path k, Path i) throws IOException, InterruptedException {
        PeerPaths paths = new PeerPaths(qemu != null ? qemu : PeerPaths.HOST_QEMU,
                qemuFirmware != null ? qemuFirmware : PeerPaths.HOST_QEMU_FIRMWARE,
                floor != null ? floor : peers.contains(PeerVmm.FLOOR) ? FloorVmm.buildCached() : Path.of("/nonexistent"));
        PeerRunner runner = new PeerRunner(paths, console ? System.err : null);
        PeerRunner.Spec spec = new PeerRunner.Spec(k, i, cmdline, memoryMib, cpus, timeoutSeconds, hugepages,
                qemuMachine, qemuAccel);
        List<BootRun> out = new ArrayList<>();
        for (int r = 1; r <= runs; r++) {
            for (PeerVmm v : peers) {
                PeerRunner.Result res = runner.run(v, spec, r, false);
                out.add(res.run());
                System.out.println(summary(res.run(), res.notes()));
                if (!res.run().ok() && !console) {
                    System.out.println("console tail:\n" + tail(res.consoleTail(), 3000));
                }
                if (labData) {
                    System.out.println(LAB_DATA + BenchJson.runLine(res.run()));
                }
                System.out.flush();
            }
        }
        return out;
    }

    /** Runs this very command inside one lab L1 with the peers packed in, and collects its runs. */
    private List<BootRun> inLab(Path k, Path i) throws IOException, InterruptedException {
        Lab lab = Guest.lab(System.err);
        Path floorBinary = FloorVmm.buildCached();
        Path archive = PeerArchive.buildCached(floorBinary, lab.baseLibraries());
        Lab.Attachments files = new Lab.Attachments();
        List<String> inner = new ArrayList<>(List.of("bench-peer", "--lab=never", "--vmm", String.join(",", vmms),
                "--kernel", files.attach(k), "--initrd", files.attach(i), "--cmdline", cmdline,
                "--mem", Integer.toString(memoryMib), "--cpus", Integer.toString(cpus), "--runs", Integer.toString(runs),
                "--timeout", Integer.toString(timeoutSeconds),
                "--qemu", PeerPaths.IN_LAB.qemu().toString(), "--qemu-firmware", PeerPaths.IN_LAB.qemuFirmware().toString(),
                "--floor", PeerPaths.IN_LAB.floor().toString(), "--lab-data"));
        if (qemuMachine != null) {
            inner.addAll(List.of("--qemu-machine", qemuMachine));
        }
        if (qemuAccel != null) {
            inner.addAll(List.of("--qemu-accel", qemuAccel));
        }
        if (hugepages) {
            inner.add("--hugepages");
        }
        if (console) {
            inner.add("--console");
        }
        List<BootRun> out = new ArrayList<>();
        int total = runs * vmms.size() * (timeoutSeconds + 10) + 120;
        int rc = lab.run(new Lab.Request(inner, files.map(), memoryMib, cpus, total, false)
                .withData(line -> out.add(BenchJson.parseRun(line))).withExtraArchives(List.of(archive)),
                System.in, new FileOutputStream(FileDescriptor.out));
        if (rc != 0 && rc != 1) {
            System.err.println("jvmm: bench-peer in the lab ended with status " + rc);
        }
        return out;
    }

    /** The runs as a JSON array, each in BenchJson's form. */
    static String jsonArray(List<BootRun> runs) {
        return runs.stream().map(BenchJson::runLine).collect(Collectors.joining(",\n  ", "[\n  ", "\n]\n"));
    }

    static String summary(BootRun r, Map<String, String> notes) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%s #%d:", r.vmm(), r.index()));
        for (Phase p : List.of(Phase.FIRST_KVM_RUN, Phase.FIRST_CONSOLE_BYTE, Phase.RUN_INIT, Phase.READY,
                Phase.VM_STOPPED, Phase.EXITED)) {
            if (r.at(p) != null) {
                sb.append(String.format(Locale.ROOT, " %s %.1f", p.key, r.at(p)));
            }
        }
        sb.append(" ms;");
        if (r.guestRunInitMs() != null) {
            sb.append(String.format(Locale.ROOT, " guest run-init %.1f ms", r.guestRunInitMs()));
        }
        if (r.guestUptimeAtReadyMs() != null) {
            sb.append(String.format(Locale.ROOT, ", uptime at ready %.0f ms", r.guestUptimeAtReadyMs()));
        }
        sb.append("; peak RSS ").append(r.peakRssKib()).append(" KiB, guest touched ").append(r.guestTouchedKib())
                .append(" KiB; status ").append(r.exitStatus());
        notes.forEach((k, v) -> sb.append("; ").append(k).append(": ").append(v));
        if (!r.ok()) {
            sb.append("; FAILED: ").append(r.failure());
        }
        return sb.toString();
    }

    private static String tail(String s, int n) {
        return s.length() > n ? s.substring(s.length() - n) : s;
    }
}
