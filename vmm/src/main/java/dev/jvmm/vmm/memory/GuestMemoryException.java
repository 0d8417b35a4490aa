package dev.jvmm.vmm.memory;

/** A guest-physical access outside guest RAM, or one that wraps around. */
public final class GuestMemoryException extends RuntimeException {
    public GuestMemoryException(String message) {
        super(message);
    }
}
