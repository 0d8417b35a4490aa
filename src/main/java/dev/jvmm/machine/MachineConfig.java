package dev.jvmm.machine;

import dev.jvmm.machine.arch.Arch;
import dev.jvmm.machine.arch.Architecture;
import dev.jvmm.machine.x86.X86Architecture;

import java.nio.file.Path;

/**
 * Everything that decides how a VM is built. Immutable; the builder reads nothing else. A kernel
 * boot names its kernel; an image boot names its disk ({@code image}) instead, and its
 * {@code cmdline} is what is appended to the command line the image's boot loader makes.
 * {@code arch} is the guest's architecture (null: the host's). {@code unpackKernel}: load the
 * kernel inside a bzImage unpacked by jvmm (UnpackedKernels) rather than run its decompressor in
 * the guest.
 */
public record MachineConfig(Path kernel, Path initrd, String cmdline, int memoryMib, int cpus, int timeoutSeconds,
                            boolean timeline, boolean escapeKey, DeviceSpecs.Devices devices, Path metricsFile,
                            ImageSpec image, Arch arch, boolean unpackKernel) {
    /** An x86_64 kernel boot's command line without --cmdline (each architecture's: {@link Architecture#defaultCmdline()}). */
    public static final String DEFAULT_CMDLINE = X86Architecture.DEFAULT_CMDLINE;

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
        arch = arch == null ? Arch.host() : arch;
        Architecture architecture = Architectures.of(arch);
        architecture.ram((long) memoryMib << 20); // refuses a size its memory map cannot hold, in one line
        cmdline = cmdline == null ? (image == null ? architecture.defaultCmdline() : "") : cmdline;
        devices = devices == null ? DeviceSpecs.Devices.DEFAULT : devices;
        if (devices.count() > architecture.maxVirtioDevices()) {
            throw new IllegalArgumentException("at most " + architecture.maxVirtioDevices() + " virtio devices on " + arch
                    + ", not " + devices.count());
        }
        String refusal = architecture.refuses(devices.discovery());
        if (refusal != null) {
            throw new IllegalArgumentException(refusal);
        }
    }

    /** A machine that loads a bzImage's kernel unpacked by jvmm. */
    public MachineConfig(Path kernel, Path initrd, String cmdline, int memoryMib, int cpus, int timeoutSeconds,
                         boolean timeline, boolean escapeKey, DeviceSpecs.Devices devices, Path metricsFile,
                         ImageSpec image, Arch arch) {
        this(kernel, initrd, cmdline, memoryMib, cpus, timeoutSeconds, timeline, escapeKey, devices, metricsFile, image,
                arch, true);
    }

    /** A machine of the host's architecture. */
    public MachineConfig(Path kernel, Path initrd, String cmdline, int memoryMib, int cpus, int timeoutSeconds,
                         boolean timeline, boolean escapeKey, DeviceSpecs.Devices devices, Path metricsFile,
                         ImageSpec image) {
        this(kernel, initrd, cmdline, memoryMib, cpus, timeoutSeconds, timeline, escapeKey, devices, metricsFile, image,
                null);
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
        return new MachineConfig(kernel, initrd, cmdline, memoryMib, cpus, timeoutSeconds, timeline, escapeKey, d, metrics,
                image, arch, unpackKernel);
    }

    public MachineConfig withUnpackKernel(boolean unpack) {
        return new MachineConfig(kernel, initrd, cmdline, memoryMib, cpus, timeoutSeconds, timeline, escapeKey, devices,
                metricsFile, image, arch, unpack);
    }
}
