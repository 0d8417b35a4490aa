package dev.jvmm.vmm.irq;

/** A level-triggered interrupt input of the guest's interrupt controller. */
public interface InterruptLine {
    void setLevel(boolean asserted);

    /** An edge: raise then lower, for edge-triggered sources. */
    default void pulse() {
        setLevel(true);
        setLevel(false);
    }
}
