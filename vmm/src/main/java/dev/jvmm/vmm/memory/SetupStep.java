package dev.jvmm.vmm.memory;

/**
 * One step of a VM's set-up that fills or registers guest memory, run on a thread of its own
 * while the steps after it go on; {@link #await} takes its outcome before the first KVM_RUN, and
 * closing waits for it, so guest memory is never unmapped under it. On one CPU (the lab's L1)
 * there is nothing to overlap with, and the step runs at once on the caller's thread.
 *
 * <p>Why: on PVM's KVM, registering 256 MiB of guest RAM (KVM_SET_USER_MEMORY_REGION) took ~5 ms
 * of a boot's ~90 to the first KVM_RUN on a lent 16-core machine, and writing an unpacked
 * kernel's 11.5 MB into guest RAM ~8 ms, while creating the VM, devices and vCPUs needs neither.
 * The thread catches everything and hands it to {@link #await}: nothing dies silently.
 *
 * @param <E> the checked exception the step may throw (RuntimeException for none)
 */
public final class SetupStep<E extends Exception> implements AutoCloseable {
    /** The step itself. */
    public interface Action<E extends Exception> {
        void run() throws E;
    }

    private final Thread thread;
    /** What the step threw (read after join). */
    private Throwable failure;

    private SetupStep(String name, Action<E> action) {
        thread = new Thread(new Runnable() { // not a lambda: a JVM's first one costs start-up time
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
     * runs it now and throws what it throws (before a later step can fail and hide it).
     */
    public static <E extends Exception> SetupStep<E> start(String name, boolean overlap, Action<E> action) throws E {
        SetupStep<E> step = new SetupStep<>(name, action);
        if (overlap) {
            step.thread.start();
        } else {
            step.thread.run(); // the Runnable, on this thread
            step.await();
        }
        return step;
    }

    /** Whether overlapping pays here: more than one CPU for this JVM. */
    public static boolean worthOverlapping() {
        return Runtime.getRuntime().availableProcessors() > 1;
    }

    /** Waits for the step; throws what it threw. */
    @SuppressWarnings("unchecked") // the action declares only E besides unchecked throwables
    public void await() throws E {
        joinUninterruptibly();
        Throwable t = failure;
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        if (t != null) {
            throw (E) t;
        }
    }

    private void joinUninterruptibly() {
        boolean interrupted = false;
        while (true) {
            try {
                thread.join(); // returns at once for a thread never started
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the step is short, and the memory it uses must outlive it
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits for the step to end, whatever its outcome (the VM's teardown, before memory goes). */
    @Override
    public void close() {
        joinUninterruptibly();
    }
}
