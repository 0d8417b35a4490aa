package dev.jvmm.machine;

import dev.jvmm.boot.KernelFiles;
import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.machine.arch.Payload;
import dev.jvmm.vmm.vcpu.StopReason;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Runs a kernel boot from a {@link MachineConfig} to its end: builds the {@link Vm}, runs it,
 * closes it and writes --metrics. Image boots, with their firmware passes, go through
 * {@link ImageBoot}; both share the console handling here.
 */
public final class Machine {
    private final MachineConfig config;
    private final Timeline timeline;
    private final PrintStream err;

    public Machine(MachineConfig config, Timeline timeline, PrintStream err) {
        this.config = config;
        this.timeline = timeline;
        this.err = err;
    }

    /** A kernel or initrd that is missing or unreadable fails here, before any lab or KVM work. */
    public static void checkInput(Path p, String what) throws KernelLoadException {
        if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
            throw new KernelLoadException(what + " " + p + " does not exist or cannot be read");
        }
    }


    /**
     * Runs {@code config} on this process's console (raw while it runs) and returns jvmm's exit
     * status; prints the timeline if asked. What `jvmm boot` does once the kernel is chosen.
     */
    public static int runOnConsole(MachineConfig config, Timeline timeline)
            throws KernelLoadException, DeviceSetupException, InterruptedException, IOException {
        return runOnConsole(config, timeline, null);
    }

    /**
     * As {@link #runOnConsole(MachineConfig, Timeline)}, with the kernel file's bytes when the
     * caller has read them already (`jvmm boot` does, to tell the architecture): read once, not
     * twice, on the way to the first KVM_RUN. Null reads the file.
     */
    public static int runOnConsole(MachineConfig config, Timeline timeline, byte[] kernelBytes)
            throws KernelLoadException, DeviceSetupException, InterruptedException, IOException {
        int rc;
        try (Terminal ignored = Terminal.raw()) {
            timeline.mark("console ready");
            OutputStream stdout = new FileOutputStream(FileDescriptor.out);
            if (config.image() != null) {
                rc = new ImageBoot(config, timeline, System.err).run(System.in, stdout);
            } else {
                StopReason reason = new Machine(config, timeline, System.err).run(System.in, stdout, kernelBytes);
                rc = ExitCodes.of(reason);
                if (reason.kind() == StopReason.Kind.ERROR || reason.kind() == StopReason.Kind.TRIPLE_FAULT) {
                    System.err.println("\r\njvmm: " + reason.detail() + "\r");
                }
            }
        }
        if (config.timeline()) {
            timeline.print(System.err);
        }
        return rc;
    }

    /**
     * Builds the VM for the configured kernel, runs it to its end and closes it; returns the stop
     * reason. {@code kernelBytes}: the kernel file if the caller read it already, else null.
     */
    public StopReason run(InputStream stdin, OutputStream stdout, byte[] kernelBytes)
            throws KernelLoadException, DeviceSetupException, InterruptedException {
        byte[] kernel = kernelBytes;
        if (kernel == null) {
            // Sizes are checked before reading: a 2 GiB "kernel" is refused in one line, not an OutOfMemoryError.
            checkInput(config.kernel(), "kernel");
            kernel = KernelFiles.readKernel(config.kernel());
        }
        byte[] initrd = null;
        if (config.initrd() != null) {
            checkInput(config.initrd(), "initrd");
            initrd = KernelFiles.readInitrd(config.initrd());
        }
        StopReason reason = null;
        Vm vm = null;
        try {
            vm = Vm.build(config, new Payload(kernel, initrd, config.cmdline()), timeline, err, Vm.Events.NONE, stdin, stdout);
            reason = vm.run();
            return reason;
        } finally {
            if (vm != null) {
                vm.close();
                timeline.guestResident(vm.guestResidentBytes());
            }
            MetricsFile.write(config.metricsFile(), reason, vm == null ? Map.of() : vm.metrics(), null, err);
        }
    }
}
