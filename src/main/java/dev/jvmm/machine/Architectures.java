package dev.jvmm.machine;

import dev.jvmm.machine.arch.Arch;
import dev.jvmm.machine.arch.Architecture;
import dev.jvmm.machine.arm64.Arm64Architecture;
import dev.jvmm.machine.x86.X86Architecture;

import java.util.List;

/** The architectures jvmm builds machines for, by name, and which one a kernel file is for. */
public final class Architectures {
    private static final Architecture X86_64 = new X86Architecture();
    private static final Architecture AARCH64 = new Arm64Architecture();
    private static final List<Architecture> ALL = List.of(X86_64, AARCH64);

    private Architectures() {}

    public static Architecture of(Arch arch) {
        return switch (arch) {
            case x86_64 -> X86_64;
            case aarch64 -> AARCH64;
        };
    }

    /**
     * The architecture whose kernel formats {@code kernel} (its first bytes suffice) has, or
     * {@code otherwise} when none claims it (the kernel is then refused by that one's loader).
     */
    public static Arch ofKernel(byte[] kernel, Arch otherwise) {
        for (Architecture a : ALL) {
            if (a.recognises(kernel)) {
                return a.arch();
            }
        }
        return otherwise;
    }
}
