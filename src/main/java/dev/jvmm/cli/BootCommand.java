package dev.jvmm.cli;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.boot.x86.KernelImage;
import dev.jvmm.machine.DeviceSpecs;
import dev.jvmm.machine.Drives;
import dev.jvmm.machine.ExitCodes;
import dev.jvmm.machine.Machine;
import dev.jvmm.machine.MachineConfig;
import dev.jvmm.machine.Terminal;
import dev.jvmm.machine.Timeline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "boot", mixinStandardHelpOptions = true,
        description = {"Boot a Linux guest with its console on this terminal.",
                "Without --kernel, boots jvmm's own minimal kernel and busybox initramfs (built on first use).",
                "Ctrl-A x quits; Ctrl-A Ctrl-A sends Ctrl-A; everything else, Ctrl-C included, goes to the guest."},
        footer = {"", ExitCodes.HELP})
final class BootCommand implements Callable<Integer> {
    @Option(names = "--kernel", paramLabel = "PATH", description = "x86_64 kernel: ELF vmlinux or bzImage")
    Path kernel;

    @Option(names = "--initrd", paramLabel = "PATH", description = "initramfs / initrd image")
    Path initrd;

    @Option(names = "--cmdline", paramLabel = "STR", description = "kernel command line (replaces the default: ${DEFAULT-VALUE})",
            defaultValue = MachineConfig.DEFAULT_CMDLINE)
    String cmdline;

    @Option(names = "--append", paramLabel = "STR", description = "appended to the kernel command line")
    String append;

    @Option(names = "--mem", paramLabel = "MIB", defaultValue = "256", description = "guest memory in MiB (default ${DEFAULT-VALUE})")
    int memoryMib;

    @Option(names = "--cpus", paramLabel = "N", defaultValue = "1", description = "vCPUs (default ${DEFAULT-VALUE})")
    int cpus;

    @Option(names = "--timeout", paramLabel = "SEC", defaultValue = "0",
            description = "stop the guest after SEC seconds with status 124 (0: no limit)")
    int timeoutSeconds;

    @Option(names = "--timeline", description = "print boot milestones with their times on exit")
    boolean timeline;

    @Option(names = "--drive", paramLabel = "path=FILE[,ro|rw][,id=NAME][,serial=S]",
            description = {"a virtio-blk disk (repeatable): a raw image or block device; an .img.lz4 is decompressed once"
                    + " into the cache and is read-only unless rw"})
    List<String> drives = new ArrayList<>();

    @Option(names = "--net", paramLabel = "tap=NAME[,mac=MAC]", description = "a virtio-net device on the host TAP NAME (repeatable)")
    List<String> nets = new ArrayList<>();

    @Option(names = "--vsock", paramLabel = "cid=N,uds=PATH",
            description = "a virtio-vsock device; host side on the Unix socket PATH (Firecracker's CONNECT/OK protocol)")
    String vsock;

    @Option(names = "--rng", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "a virtio-rng device fed from the host's SecureRandom (default: on; --no-rng drops it)")
    boolean rng;

    @Option(names = "--virtio-discovery", paramLabel = "HOW", defaultValue = "both",
            description = "how the guest finds virtio devices: both (kernel command line and ACPI DSDT), acpi, cmdline"
                    + " (default ${DEFAULT-VALUE})")
    DeviceSpecs.Discovery discovery;

    @Option(names = "--metrics", paramLabel = "FILE", description = "write every device's counters as JSON to FILE when the VM stops")
    Path metrics;

    @Option(names = "--host-script", paramLabel = "FILE",
            description = {"a shell script run beside the guest on the machine whose KVM runs it (in the lab: inside L1),"
                    + " started with the VM; for the guest's peers (TAP addresses, vsock clients). It gets 20 s after the VM"
                    + " stops, then is stopped; its output follows the guest's, each line marked [host-script]"})
    Path hostScript;

    @Option(names = "--lab", paramLabel = "MODE", defaultValue = "auto",
            description = "run inside the nested lab: auto (when the host has no hardware KVM), always, never")
    LabMode lab;

    @Override
    public Integer call() throws Exception {
        Timeline tl = new Timeline();
        tl.mark("jvmm command line parsed");
        String fullCmdline = append == null ? cmdline : cmdline + " " + append;
        if (kernel == null) {
            kernel = Guest.defaultKernel();
            if (initrd == null) {
                initrd = Guest.defaultInitrd();
            }
        }
        // Check the arguments before any lab or KVM work.
        List<DeviceSpecs.Drive> driveSpecs = new ArrayList<>();
        for (String d : drives) {
            driveSpecs.add(Drives.resolve(DeviceSpecs.Drive.parse(d), System.err));
        }
        DeviceSpecs.Devices devices = new DeviceSpecs.Devices(driveSpecs, nets.stream().map(DeviceSpecs.Net::parse).toList(),
                vsock == null ? null : DeviceSpecs.Vsock.parse(vsock), rng, discovery);
        MachineConfig config = new MachineConfig(kernel, initrd, fullCmdline, memoryMib, cpus, timeoutSeconds, timeline,
                true, devices, metrics);
        Machine.checkInput(kernel, "kernel");
        if (initrd != null) {
            Machine.checkInput(initrd, "initrd");
        }
        // A file that is no kernel fails here, on the host, in one line: not seconds later in the lab.
        KernelImage.parse(java.nio.file.Files.readAllBytes(kernel));
        String script = null;
        if (hostScript != null) {
            Machine.checkInput(hostScript, "host script");
            script = java.nio.file.Files.readString(hostScript);
        }
        if (Guest.useLab(lab, System.err)) {
            try (Terminal ignored = Terminal.raw()) {
                return Guest.lab(System.err).boot(config, script, System.in, new FileOutputStream(FileDescriptor.out));
            }
        }
        ProcessBuilder peerBuilder = new ProcessBuilder("sh", String.valueOf(hostScript));
        // The script can run jvmm's own tools (vsock-check) as $JVMM.
        peerBuilder.environment().put("JVMM", Path.of(System.getProperty("java.home"), "bin", "java") + " -jar "
                + dev.jvmm.lab.Lab.ownJarOrEmpty());
        // The script's output is kept aside and shown after the guest's, so the two never interleave.
        java.io.File peerLog = java.io.File.createTempFile("jvmm-host-script", ".log");
        Process peer = hostScript == null ? null
                : peerBuilder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(peerLog).redirectErrorStream(true).start();
        try {
            return Machine.runOnConsole(config, tl);
        } finally {
            if (peer != null) {
                if (!peer.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                    peer.destroy();
                }
                int status = peer.waitFor();
                for (String line : java.nio.file.Files.readAllLines(peerLog.toPath(), java.nio.charset.StandardCharsets.ISO_8859_1)) {
                    System.out.println("[host-script] " + line);
                }
                System.out.println("[host-script] exit status " + status);
            }
            java.nio.file.Files.deleteIfExists(peerLog.toPath());
        }
    }
}
