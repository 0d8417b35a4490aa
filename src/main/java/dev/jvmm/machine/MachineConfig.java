package dev.jvmm.machine;

import java.nio.file.Path;

/** Everything that decides how a VM is built. Immutable; the builder reads nothing else. */
public record MachineConfig(Path kernel, Path initrd, String cmdline, int memoryMib, int cpus, int timeoutSeconds,
                            boolean timeline, boolean escapeKey) {
    /** Firecracker's defaults, with the console on the UART jvmm emulates. */
    public static final String DEFAULT_CMDLINE =
            "console=ttyS0 reboot=k panic=1 i8042.noaux i8042.nomux i8042.dumbkbd";

    public MachineConfig {
        if (kernel == null) {
            throw new IllegalArgumentException("a kernel is required");
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
        cmdline = cmdline == null ? DEFAULT_CMDLINE : cmdline;
    }
}
