package dev.jvmm.boot.ab;

/** An A/B command refused by the scheme's rules (e.g. rollback to a slot that cannot boot). */
public final class AbException extends Exception {
    public AbException(String message) {
        super(message);
    }
}
