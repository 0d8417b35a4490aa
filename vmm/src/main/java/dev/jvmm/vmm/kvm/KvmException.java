package dev.jvmm.vmm.kvm;

/** KVM is missing, refuses, or reports a failure jvmm cannot continue from. */
public final class KvmException extends RuntimeException {
    public KvmException(String message) {
        super(message);
    }

    public KvmException(String message, Throwable cause) {
        super(message, cause);
    }
}
