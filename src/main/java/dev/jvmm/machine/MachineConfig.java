package dev.jvmm.machine;

import java.nio.file.Path;

/**
 * Everything that decides how a VM is built. Immutable; the builder reads nothing else. A kernel
 * boot names its kernel; an image boot names its disk ({@code image}) instead, and its
 * {@code cmdline} is what is appended to the command line the image's boot loader makes.
 */
public record MachineConfig(Path kernel, Path initrd, String cmdline, int memoryMib, int cpus, int timeoutSeconds,
                            boolean timeline, boolean escapeKey, DeviceSpecs.Devices devices, Path metricsFile,
                            ImageSpec image) {
    /** Firecracker's defaults, with the console on the UART jvmm emulates. */
    public static final String DEFAULT_CMDLINE =
            "console=ttyS0 reboot=k panic=1 i8042.noaux i8042.nomux i8042.dumbkbd";

    public MachineConfig {
        if ((kernel == null) == (image == null)) {
            throw new IllegalArgumentException("a machine boots either a kernel or an image");
        }
        if (memoryMib < 32 || memoryMib > 1 << 20) {
            throw new IllegalArgumentException("--mem must be between 32 and 1048576 MiB, not " + memoryMib);
        }
        if (cpus < 1 || cpus > 64) {
            throw new IllegalArgumentException("--cpus must be between 1 and 64, not " + cpus);
        }
        if (timeoutSeconds < 0) {
            throw new IllegalArgumentException("--timeout must not be negative");
        }
        cmdline = cmdline == null ? (image == null ? DEFAULT_CMDLINE : "") : cmdline;
        devices = devices == null ? DeviceSpecs.Devices.DEFAULT : devices;
        if (devices.count() > Vm.VIRTIO_GSIS.length) {
            throw new IllegalArgumentException("at most " + Vm.VIRTIO_GSIS.length + " virtio devices, not " + devices.count());
        }
    }

    /** A kernel boot. */
    public MachineConfig(Path kernel, Path initrd, String cmdline, int memoryMib, int cpus, int timeoutSeconds,
                         boolean timeline, boolean escapeKey, DeviceSpecs.Devices devices, Path metricsFile) {
        this(kernel, initrd, cmdline, memoryMib, cpus, timeoutSeconds, timeline, escapeKey, devices, metricsFile, null);
    }

    /** A machine with the default devices (virtio-rng only) and no metrics file. */
    public MachineConfig(Path kernel, Path initrd, String cmdline, int memoryMib, int cpus, int timeoutSeconds,
                         boolean timeline, boolean escapeKey) {
        this(kernel, initrd, cmdline, memoryMib, cpus, timeoutSeconds, timeline, escapeKey, null, null);
    }

    public MachineConfig withDevices(DeviceSpecs.Devices d, Path metrics) {
        return new MachineConfig(kernel, initrd, cmdline, memoryMib, cpus, timeoutSeconds, timeline, escapeKey, d, metrics, image);
    }
}
