package dev.jvmm.vmm.sys;

/** A failed system call, carrying errno and the name of the call that failed. */
public final class SyscallException extends RuntimeException {
    private final int errno;

    public SyscallException(String call, int errno) {
        super(call + " failed: " + Errno.describe(errno));
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
