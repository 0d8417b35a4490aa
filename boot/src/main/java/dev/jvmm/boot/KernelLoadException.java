package dev.jvmm.boot;

/** A kernel, initrd or command line that cannot be loaded, with the reason in one line. */
public final class KernelLoadException extends Exception {
    public KernelLoadException(String message) {
        super(message);
    }
}
