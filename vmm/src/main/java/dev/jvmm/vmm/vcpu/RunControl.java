package dev.jvmm.vmm.vcpu;

import java.util.Objects;

/**
 * The one place a VM's stop is decided: the first {@link #stop} wins, every later one is
 * ignored. A monitor, not a CompletableFuture: that class's initialisation pulls in the
 * ForkJoinPool and VarHandle machinery (a dozen JDK classes outside jvmm's class-data archive)
 * on the way to every boot's first KVM_RUN, for a one-shot flag.
 */
public final class RunControl {
    private volatile StopReason reason;

    public void stop(StopReason reason) {
        Objects.requireNonNull(reason, "reason");
        synchronized (this) {
            if (this.reason == null) {
                this.reason = reason;
                notifyAll();
            }
        }
    }

    public boolean isStopped() {
        return reason != null;
    }

    /** Waits for the stop; returns null if {@code timeoutMillis} passes first (≤0 waits forever). */
    public StopReason await(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        synchronized (this) {
            while (reason == null) {
                if (timeoutMillis <= 0) {
                    wait();
                    continue;
                }
                long leftNanos = deadline - System.nanoTime();
                if (leftNanos <= 0) {
                    return null;
                }
                wait(Math.max(1, leftNanos / 1_000_000L));
            }
            return reason;
        }
    }

    public StopReason reason() {
        return reason;
    }
}
