package dev.jvmm.cli;

import dev.jvmm.images.initramfs.BusyboxInitramfs;
import dev.jvmm.images.kernel.KernelBuilder;
import dev.jvmm.lab.Lab;
import dev.jvmm.machine.KvmKind;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

/** Shared steps of the commands that run guests: the default guest, and the lab decision. */
final class Guest {
    private Guest() {}

    static Path defaultKernel() throws IOException, InterruptedException {
        return new KernelBuilder("x86_64").buildOrReuse().bzImage();
    }

    static Path defaultInitrd() throws IOException, InterruptedException {
        return BusyboxInitramfs.buildCached(BusyboxInitramfs.defaultInit());
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
}
