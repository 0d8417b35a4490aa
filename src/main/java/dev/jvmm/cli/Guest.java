package dev.jvmm.cli;

import dev.jvmm.boot.gpt.GptException;
import dev.jvmm.images.disk.DefaultImage;
import dev.jvmm.images.initramfs.BusyboxInitramfs;
import dev.jvmm.images.kernel.KernelBuilder;
import dev.jvmm.lab.Lab;
import dev.jvmm.machine.KvmKind;
import dev.jvmm.machine.arch.Arch;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

/** Shared steps of the commands that run guests: the default guest, and the lab decision. */
final class Guest {
    private Guest() {}

    static Path defaultKernel() throws IOException, InterruptedException {
        return new KernelBuilder("x86_64").buildOrReuse().bzImage();
    }

    /** The default Bottlerocket-layout image, built on first use; later boots find its disk as the last one left it. */
    static Path defaultImage(PrintStream progress) throws IOException, InterruptedException, GptException {
        return DefaultImage.buildOrReuse(progress);
    }

    static Path defaultInitrd() throws IOException, InterruptedException {
        return BusyboxInitramfs.buildCached(BusyboxInitramfs.defaultInit());
    }

    /**
     * A static busybox for an {@code arch} guest: the host's own for the host's architecture, Debian's
     * busybox-static:arm64 (fetched once, the arm64 lab's own) for aarch64 on another host.
     */
    static Path busybox(Arch arch) throws IOException, InterruptedException {
        if (arch == null || arch == Arch.host()) {
            return BusyboxInitramfs.BUSYBOX;
        }
        if (arch == Arch.aarch64) {
            return Lab.arm64Busybox(System.err);
        }
        throw new IllegalArgumentException("an " + arch + " guest needs an " + arch + " busybox; this host is "
                + Arch.host() + " and jvmm fetches only arm64's");
    }

    /** Decides whether to use the lab, saying why in one line when it does so on its own. */
    static boolean useLab(LabMode mode, PrintStream err) {
        if (mode == LabMode.always) {
            return true;
        }
        if (mode == LabMode.never) {
            return false;
        }
        KvmKind.Probe probe = KvmKind.probe();
        if (probe.canRunLinux()) {
            return false;
        }
        err.println("jvmm: no usable hardware KVM here (" + probe.reason() + "); running in the nested lab"
                + " (QEMU TCG with KVM inside; --lab=never to refuse)");
        return true;
    }

    static Lab lab(PrintStream err) {
        return new Lab(err);
    }

    /**
     * For commands that run tiny guests (which even PVM runs): the lab when asked, or when there
     * is no /dev/kvm at all; says so in one line when it decides on its own.
     */
    static boolean tinyGuestsInLab(LabMode mode, String what, PrintStream err) {
        if (mode != LabMode.auto) {
            return mode == LabMode.always;
        }
        if (java.nio.file.Files.exists(Path.of(dev.jvmm.vmm.kvm.KvmSystem.DEFAULT_PATH))) {
            return false;
        }
        err.println("jvmm: no /dev/kvm here; running the " + what + " in the nested lab");
        return true;
    }

    /** Runs a jvmm command inside the lab on this process's console; returns its exit status. */
    static int runInLab(java.util.List<String> innerArgs, int memoryMib, int cpus, int timeoutSeconds)
            throws IOException, InterruptedException {
        return lab(System.err).run(new Lab.Request(innerArgs, java.util.Map.of(), memoryMib, cpus, timeoutSeconds, false),
                System.in, new java.io.FileOutputStream(java.io.FileDescriptor.out));
    }
}
