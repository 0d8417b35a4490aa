package dev.jvmm.boot.verity;

/** Data or hash tree that fails dm-verity checks; the message names the block. */
public final class VerityException extends Exception {
    public VerityException(String message) {
        super(message);
    }
}
