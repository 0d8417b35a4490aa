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
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code jvmm boot}. Its options are declared through picocli's programmatic API, not its
 * annotations: reading annotations makes the JDK generate a proxy class per annotation type,
 * and with picocli's reflection that was most of the ~80 ms between main and the parsed command
 * line, on the way to every boot's first KVM_RUN. The other commands keep their annotations.
 */
final class BootCommand implements Callable<Integer> {
    private CommandSpec spec;
    // The parsed command line (takeValues); package-private for tests.
    Path image;
    String exec;
    Path updateFrom;
    int maxBoots;
    Path kernel;
    Arch arch;
    Path initrd;
    String cmdline;
    String append;
    int memoryMib;
    int cpus;
    int timeoutSeconds;
    boolean timeline;
    List<String> drives;
    List<String> nets;
    String vsock;
    boolean rng;
    boolean unpackKernel;
    Discovery discovery;
    Path metrics;
    Path hostScript;
    LabMode lab;
    /** The kernel file as kernelConfig read it (to tell its architecture), handed on so a boot reads it once. */
    private byte[] kernelBytes;

    /** The boot command's model, bound to a new BootCommand that runs it. */
    static CommandSpec spec() {
        BootCommand command = new BootCommand();
        CommandSpec spec = CommandSpec.wrapWithoutInspection(command).name("boot");
        command.spec = spec;
        spec.usageMessage().footer("", ExitCodes.HELP).description(
                "Boot a container-OS disk image, or a Linux kernel, with its console on this terminal.",
                "IMAGE (.img or .img.lz4, Bottlerocket or COS layout): jvmm is its firmware: it picks the slot as GRUB"
                        + " gptprio / vboot would (the tries decrement written to the disk), reads the kernel and command"
                        + " line from the slot, and boots it with the disk as /dev/vda; a guest reboot is the next pass.",
                "Without IMAGE or --kernel, boots jvmm's default Bottlerocket-layout image (built on first use).",
                "Ctrl-A x quits; Ctrl-A Ctrl-A sends Ctrl-A; everything else, Ctrl-C included, goes to the guest.");
        Main.addStandardHelpOptions(spec);
        spec.addPositional(PositionalParamSpec.builder().index("0").arity("0..1").paramLabel("IMAGE").type(Path.class)
                .description("a container-OS disk image (jvmm image build output, or any disk with the same partition"
                        + " scheme)").build());
        spec.addOption(option("--exec", "CMD", String.class, null,
                "(IMAGE) once the guest is ready, run sh -c CMD in it through the agent, then power it off;"
                        + " jvmm exits with CMD's status"));
        spec.addOption(option("--update-from", "NEW", Path.class, null,
                "(IMAGE) once the first boot is ready, write NEW's running slot into the inactive slot (as"
                        + " jvmm image upgrade does) and reboot into it; falls back if it fails"));
        spec.addOption(option("--max-boots", "N", int.class, "4",
                "(IMAGE) firmware passes at most: a guest reboot is the next pass (default ${DEFAULT-VALUE})"));
        spec.addOption(option("--kernel", "PATH", Path.class, null,
                "x86_64 kernel (ELF vmlinux or bzImage) or aarch64 kernel (Image, Image.gz or EFI zboot)"));
        spec.addOption(option("--arch", "ARCH", Arch.class, null,
                "(--kernel) the guest's architecture, x86_64 or aarch64 (default: the kernel file's format"
                        + " says; otherwise the host's)"));
        spec.addOption(option("--initrd", "PATH", Path.class, null, "initramfs / initrd image"));
        spec.addOption(option("--cmdline", "STR", String.class, null,
                "(--kernel) kernel command line (replaces the default: x86_64 " + MachineConfig.DEFAULT_CMDLINE
                        + "; aarch64 " + Arm64Architecture.DEFAULT_CMDLINE + ")"));
        spec.addOption(option("--append", "STR", String.class, null,
                "appended to the kernel command line (for an IMAGE: after the command line its boot loader makes)"));
        spec.addOption(option("--mem", "MIB", int.class, "256", "guest memory in MiB (default ${DEFAULT-VALUE})"));
        spec.addOption(option("--cpus", "N", int.class, "1", "vCPUs (default ${DEFAULT-VALUE})"));
        spec.addOption(option("--timeout", "SEC", int.class, "0",
                "stop the guest after SEC seconds with status 124 (0: no limit)"));
        spec.addOption(OptionSpec.builder("--timeline").type(boolean.class).defaultValue("false")
                .description("print boot milestones with their times on exit").build());
        spec.addOption(OptionSpec.builder("--drive").paramLabel("path=FILE[,ro|rw][,id=NAME][,serial=S]")
                .type(List.class).auxiliaryTypes(String.class).initialValue(new ArrayList<String>())
                .description("a virtio-blk disk (repeatable): a raw image or block device; an .img.lz4 is decompressed"
                        + " once into the cache and is read-only unless rw").build());
        spec.addOption(OptionSpec.builder("--net").paramLabel("tap=NAME[,mac=MAC]")
                .type(List.class).auxiliaryTypes(String.class).initialValue(new ArrayList<String>())
                .description("a virtio-net device on the host TAP NAME (repeatable)").build());
        spec.addOption(option("--vsock", "cid=N,uds=PATH", String.class, null,
                "a virtio-vsock device; host side on the Unix socket PATH (Firecracker's CONNECT/OK protocol)"));
        spec.addOption(OptionSpec.builder("--rng").negatable(true).type(boolean.class).defaultValue("true")
                .fallbackValue("true")
                .description("a virtio-rng device fed from the host's SecureRandom (default: on; --no-rng drops it)")
                .build());
        spec.addOption(OptionSpec.builder("--unpack-kernel").negatable(true).type(boolean.class).defaultValue("true")
                .fallbackValue("true")
                .description("load the kernel inside a gzip or xz bzImage unpacked by jvmm, so that the guest skips its"
                        + " decompressor: from the cache, where jvmm kernel build or an earlier boot put it (a first boot"
                        + " leaves it to the guest and unpacks it for the next) (default: on; --no-unpack-kernel always"
                        + " runs the decompressor in the guest, as QEMU does)")
                .build());
        spec.addOption(option("--virtio-discovery", "HOW", Discovery.class, "auto",
                "how the guest finds virtio devices: auto (the ACPI DSDT, or the kernel command line if it"
                        + " says acpi=off), both, acpi, cmdline (default ${DEFAULT-VALUE})"));
        spec.addOption(option("--metrics", "FILE", Path.class, null,
                "write every device's counters as JSON to FILE when the VM stops"));
        spec.addOption(option("--host-script", "FILE", Path.class, null,
                "a shell script run beside the guest on the machine whose KVM runs it (in the lab: inside L1),"
                        + " started with the VM; for the guest's peers (TAP addresses, vsock clients). It gets 20 s after"
                        + " the VM stops, then is stopped; its output follows the guest's, each line marked [host-script]"));
        spec.addOption(option("--lab", "MODE", LabMode.class, "auto",
                "run inside the nested lab: auto (when the host has no hardware KVM), always, never"));
        return spec;
    }

    private static OptionSpec option(String name, String label, Class<?> type, String defaultValue, String description) {
        return OptionSpec.builder(name).paramLabel(label).type(type).defaultValue(defaultValue).description(description)
                .build();
    }

    /** An option's value after parsing: what the command line gave, else its default. */
    private <T> T value(String name) {
        return spec.findOption(name).getValue();
    }

    /** Copies the parsed values (or defaults) into the fields. */
    void takeValues() {
        image = spec.positionalParameters().get(0).getValue();
        exec = value("--exec");
        updateFrom = value("--update-from");
        maxBoots = value("--max-boots");
        kernel = value("--kernel");
        arch = value("--arch");
        initrd = value("--initrd");
        cmdline = value("--cmdline");
        append = value("--append");
        memoryMib = value("--mem");
        cpus = value("--cpus");
        timeoutSeconds = value("--timeout");
        timeline = value("--timeline");
        drives = value("--drive");
        nets = value("--net");
        vsock = value("--vsock");
        rng = value("--rng");
        unpackKernel = value("--unpack-kernel");
        discovery = value("--virtio-discovery");
        metrics = value("--metrics");
        hostScript = value("--host-script");
        lab = value("--lab");
    }

    @Override
    public Integer call() throws Exception {
        Timeline tl = new Timeline();
        tl.mark("jvmm command line parsed");
        takeValues();
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
        config = config.withUnpackKernel(unpackKernel);
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
                kernelBytes = null; // the lab reads the file itself
                if (foreign && lab == LabMode.auto) {
                    System.err.println("jvmm: an " + config.arch() + " guest on this " + Arch.host() + " host: running in the "
                            + config.arch() + " lab");
                }
                try (Terminal ignored = Terminal.raw()) {
                    return Guest.lab(System.err).boot(config, script, System.in, new FileOutputStream(FileDescriptor.out));
                }
            }
            try (HostScript peer = HostScript.start(hostScript)) {
                return Machine.runOnConsole(config, tl, kernelBytes);
            }
        }
    }

    private MachineConfig kernelConfig(DeviceSpecs.Devices devices) throws Exception {
        Machine.checkInput(kernel, "kernel");
        kernelBytes = KernelFiles.readKernel(kernel);
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
