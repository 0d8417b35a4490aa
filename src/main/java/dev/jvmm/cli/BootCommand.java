package dev.jvmm.cli;

import dev.jvmm.boot.KernelFiles;
import dev.jvmm.machine.Architectures;
import dev.jvmm.machine.DeviceSpecs;
import dev.jvmm.machine.Drives;
import dev.jvmm.machine.ExitCodes;
import dev.jvmm.machine.ImageInput;
import dev.jvmm.machine.Machine;
import dev.jvmm.machine.MachineConfig;
import dev.jvmm.machine.Terminal;
import dev.jvmm.machine.Timeline;
import dev.jvmm.machine.arch.Arch;
import dev.jvmm.machine.arch.Architecture;
import dev.jvmm.machine.arch.Discovery;
import dev.jvmm.machine.arm64.Arm64Architecture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "boot", mixinStandardHelpOptions = true,
        description = {"Boot a container-OS disk image, or a Linux kernel, with its console on this terminal.",
                "IMAGE (.img or .img.lz4, Bottlerocket or COS layout): jvmm is its firmware: it picks the slot as GRUB"
                        + " gptprio / vboot would (the tries decrement written to the disk), reads the kernel and command"
                        + " line from the slot, and boots it with the disk as /dev/vda; a guest reboot is the next pass.",
                "Without IMAGE or --kernel, boots jvmm's default Bottlerocket-layout image (built on first use).",
                "Ctrl-A x quits; Ctrl-A Ctrl-A sends Ctrl-A; everything else, Ctrl-C included, goes to the guest."},
        footer = {"", ExitCodes.HELP})
final class BootCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "IMAGE",
            description = "a container-OS disk image (jvmm image build output, or any disk with the same partition scheme)")
    Path image;

    @Option(names = "--exec", paramLabel = "CMD",
            description = "(IMAGE) once the guest is ready, run sh -c CMD in it through the agent, then power it off;"
                    + " jvmm exits with CMD's status")
    String exec;

    @Option(names = "--update-from", paramLabel = "NEW",
            description = "(IMAGE) once the first boot is ready, write NEW's running slot into the inactive slot (as"
                    + " jvmm image upgrade does) and reboot into it; falls back if it fails")
    Path updateFrom;

    @Option(names = "--max-boots", paramLabel = "N", defaultValue = "4",
            description = "(IMAGE) firmware passes at most: a guest reboot is the next pass (default ${DEFAULT-VALUE})")
    int maxBoots;

    @Option(names = "--kernel", paramLabel = "PATH",
            description = "x86_64 kernel (ELF vmlinux or bzImage) or aarch64 kernel (Image, Image.gz or EFI zboot)")
    Path kernel;

    @Option(names = "--arch", paramLabel = "ARCH",
            description = "(--kernel) the guest's architecture, x86_64 or aarch64 (default: the kernel file's format"
                    + " says; otherwise the host's)")
    Arch arch;

    @Option(names = "--initrd", paramLabel = "PATH", description = "initramfs / initrd image")
    Path initrd;

    @Option(names = "--cmdline", paramLabel = "STR",
            description = "(--kernel) kernel command line (replaces the default: x86_64 " + MachineConfig.DEFAULT_CMDLINE
                    + "; aarch64 " + Arm64Architecture.DEFAULT_CMDLINE + ")")
    String cmdline;

    @Option(names = "--append", paramLabel = "STR",
            description = "appended to the kernel command line (for an IMAGE: after the command line its boot loader makes)")
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

    @Option(names = "--virtio-discovery", paramLabel = "HOW", defaultValue = "auto",
            description = "how the guest finds virtio devices: auto (the ACPI DSDT, or the kernel command line if it"
                    + " says acpi=off), both, acpi, cmdline (default ${DEFAULT-VALUE})")
    Discovery discovery;

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
        if (kernel != null && image != null) {
            throw new IllegalArgumentException("give an IMAGE or --kernel, not both");
        }
        if (kernel == null && (initrd != null || cmdline != null)) {
            throw new IllegalArgumentException("--initrd and --cmdline go with --kernel (an image's boot loader makes its own)");
        }
        if (kernel == null && arch != null) {
            throw new IllegalArgumentException("--arch goes with --kernel (an image's architecture is its kernel's)");
        }
        if (image == null && (exec != null || updateFrom != null)) {
            throw new IllegalArgumentException("--exec and --update-from go with an IMAGE");
        }
        if (maxBoots < 1 || maxBoots > 64) {
            throw new IllegalArgumentException("--max-boots must be between 1 and 64, not " + maxBoots);
        }
        if (kernel == null && image == null) {
            image = Guest.defaultImage(System.err);
        }
        // Check the arguments before any lab or KVM work.
        List<DeviceSpecs.Drive> driveSpecs = new ArrayList<>();
        for (String d : drives) {
            driveSpecs.add(Drives.resolve(DeviceSpecs.Drive.parse(d), System.err));
        }
        List<DeviceSpecs.Net> netSpecs = new ArrayList<>(); // a loop, not a stream: see Main on start-up
        for (String n : nets) {
            netSpecs.add(DeviceSpecs.Net.parse(n));
        }
        DeviceSpecs.Devices devices = new DeviceSpecs.Devices(driveSpecs, netSpecs,
                vsock == null ? null : DeviceSpecs.Vsock.parse(vsock), rng, discovery);
        MachineConfig config = kernel != null ? kernelConfig(devices) : ImageInput.config(image, updateFrom, exec, maxBoots,
                append, memoryMib, cpus, timeoutSeconds, timeline, devices, metrics, System.err);
        String script = null;
        if (hostScript != null) {
            Machine.checkInput(hostScript, "host script");
            script = Files.readString(hostScript);
        }
        // A guest of another architecture than the host's runs in the lab of its own (QEMU emulating its CPU).
        boolean foreign = config.arch() != Arch.host();
        if (foreign && lab == LabMode.never) {
            throw new IllegalArgumentException("an " + config.arch() + " guest runs on an " + config.arch() + " host with KVM"
                    + " or in the " + config.arch() + " lab; this host is " + Arch.host() + " and --lab=never refuses the lab");
        }
        try (Drives.Held held = Drives.lock(config)) {
            if (foreign || Guest.useLab(lab, System.err)) {
                if (foreign && lab == LabMode.auto) {
                    System.err.println("jvmm: an " + config.arch() + " guest on this " + Arch.host() + " host: running in the "
                            + config.arch() + " lab");
                }
                try (Terminal ignored = Terminal.raw()) {
                    return Guest.lab(System.err).boot(config, script, System.in, new FileOutputStream(FileDescriptor.out));
                }
            }
            try (HostScript peer = HostScript.start(hostScript)) {
                return Machine.runOnConsole(config, tl);
            }
        }
    }

    private MachineConfig kernelConfig(DeviceSpecs.Devices devices) throws Exception {
        Machine.checkInput(kernel, "kernel");
        byte[] kernelBytes = KernelFiles.readKernel(kernel);
        Arch guest = arch != null ? arch : Architectures.ofKernel(kernelBytes, Arch.host());
        Architecture architecture = Architectures.of(guest);
        String base = cmdline == null ? architecture.defaultCmdline() : cmdline;
        String fullCmdline = append == null ? base : base + " " + append;
        MachineConfig config = new MachineConfig(kernel, initrd, fullCmdline, memoryMib, cpus, timeoutSeconds, timeline,
                true, devices, metrics, null, guest);
        if (initrd != null) {
            Machine.checkInput(initrd, "initrd");
            KernelFiles.checkSize(initrd, "initrd", KernelFiles.MAX_INITRD_BYTES);
        }
        // A file that is no kernel fails here, on the host, in one line: not seconds later in the lab.
        architecture.checkKernel(kernelBytes);
        return config;
    }
}
