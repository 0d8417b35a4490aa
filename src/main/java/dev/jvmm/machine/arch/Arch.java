package dev.jvmm.machine.arch;

import java.util.Locale;

/**
 * The guest architectures jvmm builds machines for, by the names {@code uname -m} gives them
 * (which is also how they are spelled on the command line and in machine files). Just the name:
 * what each one means is its {@link Architecture}.
 */
public enum Arch {
    x86_64,
    aarch64;

    /** The architecture of the host this JVM runs on: a guest of it runs on the host's own KVM. */
    public static Arch host() {
        return ofHost(System.getProperty("os.arch", ""));
    }

    /** The architecture for a JVM's {@code os.arch}: "aarch64"/"arm64" is aarch64, anything else x86_64. */
    static Arch ofHost(String osArch) {
        String a = osArch.toLowerCase(Locale.ROOT);
        return a.equals("aarch64") || a.equals("arm64") ? aarch64 : x86_64;
    }

    /** {@code name} as {@code --arch} takes it; one line naming the choices when it is none of them. */
    public static Arch parse(String name) {
        for (Arch a : values()) {
            if (a.name().equals(name)) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown architecture '" + name + "': x86_64 or aarch64");
    }
}
