package dev.jvmm.machine;

/**
 * One step of a VM's set-up on a thread of its own, overlapping the steps after it; {@link
 * #await} takes its outcome before the first KVM_RUN, and closing waits for it, so a failed
 * set-up never tears down what the step still uses. On one CPU (the lab's L1) there is nothing to
 * overlap with, and the step runs at once on the caller's thread.
 *
 * <p>Why: on PVM's KVM, registering 256 MiB of guest RAM (KVM_SET_USER_MEMORY_REGION) took ~7 ms
 * of a boot's ~90 to the first KVM_RUN on a lent 16-core machine, while creating the devices and
 * vCPUs needs no guest RAM from KVM. The thread catches everything and hands it to {@link #await}.
 */
final class SetupStep implements AutoCloseable {
    /** The step itself. */
    interface Action {
        void run();
    }

    private final Thread thread;
    /** What the step threw (read after join). */
    private Throwable failure;

    private SetupStep(String name, Action action) {
        thread = new Thread(new Runnable() { // not a lambda: see Vm on start-up
            @Override
            public void run() {
                try {
                    action.run();
                } catch (Throwable t) {
                    failure = t;
                }
            }
        }, name);
        thread.setDaemon(true);
    }

    /**
     * Starts {@code action} on a thread named {@code name}, or, when {@code overlap} is false,
     * runs it now and throws what it throws.
     */
    static SetupStep start(String name, boolean overlap, Action action) {
        SetupStep step = new SetupStep(name, action);
        if (overlap) {
            step.thread.start();
        } else {
            step.thread.run(); // the Runnable, on this thread
            step.await(); // a failure is thrown here, before later steps can fail and hide it
        }
        return step;
    }

    /** Whether overlapping pays here: more than one CPU for this JVM. */
    static boolean worthOverlapping() {
        return Runtime.getRuntime().availableProcessors() > 1;
    }

    /** Waits for the step; throws what it threw. */
    void await() {
        joinUninterruptibly();
        Throwable t = failure;
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        if (t != null) {
            throw new IllegalStateException(thread.getName() + " failed", t);
        }
    }

    private void joinUninterruptibly() {
        boolean interrupted = false;
        while (true) {
            try {
                thread.join(); // returns at once for a thread never started
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the step is short, and what it uses must outlive it
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        joinUninterruptibly();
    }
}
