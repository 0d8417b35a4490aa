package dev.jvmm.devices.virtio;

import dev.jvmm.vmm.sys.Epoll;
import dev.jvmm.vmm.sys.Syscalls;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.Consumer;

/**
 * Queue notifications through KVM_IOEVENTFD: the guest's QueueNotify write for queue i of a
 * device is caught by KVM, which signals an eventfd instead of leaving KVM_RUN; this thread
 * waits on all of them in one epoll set, with no timeout, and serves the queues whose eventfds
 * fired. The vCPU goes on running while requests are handled, and several requests made
 * meanwhile are served in one pass. {@link #stop} wakes the thread through the set's own
 * eventfd, so nothing here polls. A guest's bad queue is the transport's business
 * (NEEDS_RESET); anything that escapes it is jvmm's fault and stops the VM through
 * {@code fatal}, never a silently dead thread.
 */
public final class QueueNotifier implements AutoCloseable {
    /** One eventfd and the queue it stands for. */
    public record Target(int eventfd, String name, Runnable serve) {}

    /** A request in flight finishes well within this; a notifier still busy after it is stuck. */
    public static final long STOP_MILLIS = 30_000;

    private final List<Target> targets;
    private final Consumer<Throwable> fatal;
    private final Epoll epoll;
    private final Thread thread;
    private volatile boolean running = true;
    private boolean closed;

    public QueueNotifier(List<Target> targets, Consumer<Throwable> fatal) {
        this.targets = List.copyOf(targets);
        this.fatal = fatal;
        epoll = new Epoll(this.targets.size() + 1);
        try {
            for (int i = 0; i < this.targets.size(); i++) {
                epoll.add(this.targets.get(i).eventfd(), Epoll.IN, i);
            }
        } catch (RuntimeException e) {
            epoll.close();
            throw e;
        }
        thread = new Thread("virtio-notify") { // an inner class, not a method reference: no invokedynamic at start-up
            @Override
            public void run() {
                loop();
            }
        };
        thread.setDaemon(true);
    }

    public synchronized void start() {
        if (!targets.isEmpty() && running) {
            thread.start();
        }
    }

    private void loop() {
        ByteBuffer eight = Syscalls.struct(8);
        Target serving = null;
        try {
            while (running) {
                int ready = epoll.await(-1);
                for (int i = 0; i < ready && running; i++) {
                    Target t = targets.get((int) epoll.token(i));
                    if (Syscalls.readEventfd(t.eventfd(), eight) > 0) {
                        serving = t;
                        t.serve().run();
                        serving = null;
                    }
                }
            }
        } catch (Throwable t) {
            running = false;
            fatal.accept(new IllegalStateException("the virtio notifier failed" + (serving == null ? "" : " serving "
                    + serving.name()) + ": " + t, t));
        }
    }

    /** Whether the thread is running (started, and neither stopped nor failed). */
    public boolean isAlive() {
        return thread.isAlive();
    }

    /**
     * Stops the thread: it is woken at once, and this waits, up to {@code millis}, for the
     * request it is serving to end; returns whether it has. Guest memory must not go while it is
     * still running.
     */
    public synchronized boolean stop(long millis) throws InterruptedException {
        if (closed) {
            return true;
        }
        running = false;
        epoll.wake();
        if (thread.isAlive()) {
            thread.join(millis);
        }
        if (thread.isAlive()) {
            return false; // the set stays open: the thread still uses it
        }
        closed = true;
        epoll.close();
        return true;
    }

    /** Stops the thread (the eventfds close with the VM). */
    @Override
    public void close() throws InterruptedException {
        stop(STOP_MILLIS);
    }
}
