package dev.jvmm.bootbench;

/** The VMMs jvmm's boot bench compares itself with, as named in BootRun.vmm and on the command line. */
public enum PeerVmm {
    QEMU("qemu"),
    FLOOR("floor");

    public final String key;

    PeerVmm(String key) {
        this.key = key;
    }

    public static PeerVmm of(String key) {
        for (PeerVmm v : values()) {
            if (v.key.equalsIgnoreCase(key)) {
                return v;
            }
        }
        throw new IllegalArgumentException("unknown peer VMM '" + key + "' (qemu or floor)");
    }

    @Override
    public String toString() {
        return key;
    }
}
