package dev.jvmm.boot.grub;

/** A grub.cfg that GRUB would not boot from, or that uses what this interpreter refuses; the message says what and where. */
public final class GrubException extends Exception {
    public GrubException(String message) {
        super(message);
    }
}
