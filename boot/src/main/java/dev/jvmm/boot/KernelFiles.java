package dev.jvmm.boot;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
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

    private static final int CHUNK = 64 * 1024;

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

    /**
     * Read in 64 KiB pieces straight into the array: Files.readAllBytes (and one large read) goes
     * through a native buffer as large as the file, touching every page of the file twice, which
     * under the lab's TCG is tens of ms for a kernel and its initrd. A file that changes size
     * while it is read is refused.
     */
    static byte[] read(Path p, String what, long max) throws KernelLoadException {
        checkSize(p, what, max);
        try (InputStream in = new FileInputStream(p.toFile())) {
            long size = Files.size(p);
            if (size > max) { // grew since the check
                throw new KernelLoadException(what + " " + p + " grew past " + max + " bytes while being read");
            }
            byte[] b = new byte[(int) size];
            int off = 0;
            while (off < b.length) {
                int n = in.read(b, off, Math.min(CHUNK, b.length - off));
                if (n < 0) {
                    throw new KernelLoadException(what + " " + p + " shrank while being read (" + off + " of "
                            + b.length + " bytes)");
                }
                off += n;
            }
            if (in.read() >= 0) {
                throw new KernelLoadException(what + " " + p + " grew while being read");
            }
            return b;
        } catch (IOException e) {
            throw new KernelLoadException("cannot read " + what + " " + p + ": " + e.getMessage());
        }
    }
}
