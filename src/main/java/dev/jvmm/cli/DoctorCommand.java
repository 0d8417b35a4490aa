package dev.jvmm.cli;

import dev.jvmm.images.Cache;
import dev.jvmm.images.kernel.KernelBuilder;
import dev.jvmm.lab.LabStatus;
import dev.jvmm.machine.KvmKind;
import picocli.CommandLine.Command;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = "Report what this host offers jvmm (KVM kind, lab, tools, caches) and what to do about each gap.")
final class DoctorCommand implements Callable<Integer> {
    private record Tool(String path, String pkg, String purpose) {}

    private static final List<Tool> TOOLS = List.of(
            new Tool("/usr/bin/qemu-system-x86_64", "qemu-system-x86", "the nested lab"),
            new Tool("/usr/bin/qemu-system-aarch64", "qemu-system-arm", "the arm64 lab"),
            new Tool("/bin/busybox", "busybox-static", "guest and lab initramfs"),
            new Tool("/usr/src/linux-source-6.1.tar.xz", "linux-source-6.1", "building the guest kernel"),
            new Tool("/usr/bin/flex", "flex", "building the guest kernel"),
            new Tool("/usr/bin/bison", "bison", "building the guest kernel"),
            new Tool("/usr/bin/bc", "bc", "building the guest kernel"),
            new Tool("/usr/include/libelf.h", "libelf-dev", "building the guest kernel"),
            new Tool("/usr/include/openssl/ssl.h", "libssl-dev", "building the guest kernel"),
            new Tool("/usr/sbin/mkfs.ext4", "e2fsprogs", "jvmm image build (BOOT and data file systems)"),
            new Tool("/usr/bin/mkfs.erofs", "erofs-utils", "jvmm image build (read-only root)"),
            new Tool("/usr/lib/x86_64-linux-gnu/libc.a", "libc6-dev", "jvmm image build (static vsock agent)"),
            new Tool("/usr/bin/iasl", "acpica-tools", "tests: ACPI table disassembly"),
            new Tool("/usr/sbin/sgdisk", "gdisk", "tests: GPT checks"),
            new Tool("/usr/bin/cgpt", "cgpt", "tests: ChromeOS attribute checks"),
            new Tool("/usr/sbin/veritysetup", "cryptsetup-bin", "tests: dm-verity checks"),
            new Tool("/usr/bin/lz4", "lz4", "tests: LZ4 frames"));

    @Override
    public Integer call() throws Exception {
        int problems = 0;
        Path kvm = Path.of("/dev/kvm");
        KvmKind.Probe probe = KvmKind.probe();
        System.out.printf("%-14s %s%n", "/dev/kvm", Files.exists(kvm)
                ? (Files.isReadable(kvm) && Files.isWritable(kvm) ? "present, accessible" : "present, NOT accessible: add yourself to the kvm group")
                : "absent");
        System.out.printf("%-14s %s: %s%n", "KVM kind", probe.kind(), probe.reason());
        if (!probe.canRunLinux()) {
            System.out.printf("%-14s %s%n", "", "full Linux guests will run in the nested lab (jvmm boot --lab=auto)");
        }
        Path jlink = Path.of(System.getProperty("java.home"), "bin", "jlink");
        System.out.printf("%-14s %s%n", "java", System.getProperty("java.version") + " at " + System.getProperty("java.home")
                + (Files.isExecutable(jlink) ? " (jlink present)" : " (no jlink: the lab needs a JDK)"));
        for (Tool t : TOOLS) {
            boolean ok = Files.exists(Path.of(t.path()));
            if (!ok) {
                problems++;
            }
            System.out.printf("%-14s %s%n", t.pkg(), ok ? "ok" : "MISSING, needed for " + t.purpose()
                    + ": sudo apt-get install " + t.pkg());
        }
        boolean labReady = Files.exists(Path.of("/usr/bin/qemu-system-x86_64")) && Files.exists(Path.of("/bin/busybox"));
        System.out.printf("%-14s %s%n", "lab x86_64", labReady ? "available (QEMU TCG with SVM/VMX, Debian cloud kernel as L1)"
                : "unavailable until qemu-system-x86 and busybox-static are installed");
        for (LabStatus.Line l : LabStatus.arm64()) {
            System.out.printf("%-14s %s%n", l.label(), l.text());
            if (l.problem()) {
                problems++;
            }
        }
        Path cache = Cache.root();
        System.out.printf("%-14s %s%n", "cache", cache);
        KernelBuilder.Built k = Files.exists(KernelBuilder.SOURCE_TARBALL) ? new KernelBuilder("x86_64").cached() : null;
        System.out.printf("%-14s %s%n", "guest kernel", k != null ? "built: " + k.bzImage()
                : "not built yet (jvmm kernel build, about 10 minutes on 2 cores)");
        Path lab = cache.resolve("lab");
        long labEntries = Files.isDirectory(lab) ? Files.list(lab).count() : 0;
        System.out.printf("%-14s %s%n", "lab cache", labEntries > 0 ? labEntries + " entries in " + lab : "empty (first lab run fills it)");
        return problems == 0 ? 0 : 1;
    }
}
