package dev.jvmm.boot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a kernel or initrd file whole, after refusing one by its size: a multi-GiB file would
 * otherwise end in an OutOfMemoryError (or a negative array size) instead of one line.
 */
public final class KernelFiles {
    /** Far above any bootable kernel (a debug vmlinux is a few hundred MiB). */
    public static final long MAX_KERNEL_BYTES = 1L << 30;
    /** An initrd must fit below initrd_addr_max (2 GiB at most) beside the kernel. */
    public static final long MAX_INITRD_BYTES = 1L << 30;

    private KernelFiles() {}

    public static byte[] readKernel(Path p) throws KernelLoadException {
        return read(p, "kernel", MAX_KERNEL_BYTES);
    }

    public static byte[] readInitrd(Path p) throws KernelLoadException {
        return read(p, "initrd", MAX_INITRD_BYTES);
    }

    /** Refuses a missing, unreadable or over-large file with one line; otherwise its bytes. */
    public static void checkSize(Path p, String what, long max) throws KernelLoadException {
        long size;
        try {
            size = Files.size(p);
        } catch (IOException e) {
            throw new KernelLoadException("cannot read " + what + " " + p + ": " + e.getMessage());
        }
        if (size > max) {
            throw new KernelLoadException(what + " " + p + " is " + size + " bytes; jvmm loads at most " + max
                    + " (" + (max >> 20) + " MiB)");
        }
    }

    static byte[] read(Path p, String what, long max) throws KernelLoadException {
        checkSize(p, what, max);
        try {
            byte[] b = Files.readAllBytes(p);
            if (b.length > max) { // grew since the check
                throw new KernelLoadException(what + " " + p + " grew past " + max + " bytes while being read");
            }
            return b;
        } catch (IOException e) {
            throw new KernelLoadException("cannot read " + what + " " + p + ": " + e.getMessage());
        }
    }
}
