package dev.jvmm.cli;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.boot.x86.KernelImage;
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
        MachineConfig config = new MachineConfig(kernel, initrd, fullCmdline, memoryMib, cpus, timeoutSeconds, timeline,
                true);
        Machine.checkInput(kernel, "kernel");
        if (initrd != null) {
            Machine.checkInput(initrd, "initrd");
        }
        // A file that is no kernel fails here, on the host, in one line: not seconds later in the lab.
        KernelImage.parse(java.nio.file.Files.readAllBytes(kernel));
        if (Guest.useLab(lab, System.err)) {
            return runInLab(config);
        }
        return Machine.runOnConsole(config, tl);
    }

    private int runInLab(MachineConfig c) throws Exception {
        try (Terminal ignored = Terminal.raw()) {
            return Guest.lab(System.err).boot(c, System.in, new FileOutputStream(FileDescriptor.out));
        }
    }
}
