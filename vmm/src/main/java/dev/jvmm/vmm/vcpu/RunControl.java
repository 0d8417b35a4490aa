package dev.jvmm.vmm.vcpu;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The one place a VM's stop is decided: the first {@link #stop} wins, every later one is
 * ignored.
 */
public final class RunControl {
    private final CompletableFuture<StopReason> stopped = new CompletableFuture<>();

    public void stop(StopReason reason) {
        stopped.complete(reason);
    }

    public boolean isStopped() {
        return stopped.isDone();
    }

    /** Waits for the stop; returns null if {@code timeoutMillis} passes first (≤0 waits forever). */
    public StopReason await(long timeoutMillis) throws InterruptedException {
        try {
            return timeoutMillis > 0 ? stopped.get(timeoutMillis, TimeUnit.MILLISECONDS) : stopped.get();
        } catch (java.util.concurrent.TimeoutException e) {
            return null;
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    public StopReason reason() {
        return stopped.getNow(null);
    }
}
