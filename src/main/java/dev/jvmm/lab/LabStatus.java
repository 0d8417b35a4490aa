package dev.jvmm.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What jvmm doctor says about the arm64 lab without changing anything: whether its QEMU is
 * installed, whether apt can see arm64 packages, and which of its pieces are cached (the first
 * arm64 lab run fetches the rest).
 */
public final class LabStatus {
    private LabStatus() {}

    /** A doctor line: a label and what to say. */
    public record Line(String label, String text, boolean problem) {}

    public static List<Line> arm64() throws IOException {
        List<Line> out = new ArrayList<>();
        LabArch a = LabArch.AARCH64;
        boolean qemu = Files.isExecutable(Path.of("/usr/bin", a.qemuBinary()));
        boolean apt = DebianArm64.architectureAdded();
        String ready = qemu && apt ? "available (" + a.qemuBinary() + " -M virt,virtualization=on, Debian's "
                + Arm64LabPieces.KERNEL_META + " as L1, KVM in VHE mode)"
                : "unavailable until" + (qemu ? "" : " " + a.qemuPackage() + " is installed")
                + (qemu || apt ? "" : " and") + (apt ? "" : " apt sees arm64 packages: " + DebianArm64.setupCommand());
        out.add(new Line("lab aarch64", ready, !(qemu && apt)));
        Map<String, List<Path>> cached = Arm64LabPieces.cached();
        List<String> have = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (String kind : List.of("kernel", "java runtime", "busybox and libraries", "initramfs")) {
            List<Path> p = cached.get(kind);
            if (p == null) {
                missing.add(kind);
            } else {
                have.add(kind + " " + p.get(p.size() - 1).getFileName() + (p.size() > 1 ? " (+" + (p.size() - 1) + " older)" : ""));
            }
        }
        out.add(new Line("arm64 cache", (have.isEmpty() ? "empty" : String.join("; ", have))
                + (missing.isEmpty() ? "" : "; not yet: " + String.join(", ", missing) + " (the first arm64 lab run"
                + " fetches Debian's arm64 " + Arm64LabPieces.KERNEL_META + ", " + Arm64LabPieces.JDK_PACKAGE + ", "
                + Arm64LabPieces.BUSYBOX_PACKAGE + ", " + String.join(", ", Arm64LabPieces.LIBRARY_PACKAGES) + ")"), false));
        return out;
    }
}
