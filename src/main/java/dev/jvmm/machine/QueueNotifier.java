package dev.jvmm.machine;

import dev.jvmm.devices.virtio.MmioTransport;
import dev.jvmm.vmm.kvm.KvmVm;
import dev.jvmm.vmm.sys.Syscalls;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Queue notifications through KVM_IOEVENTFD: the guest's QueueNotify write for queue i of a
 * device is caught by KVM, which signals an eventfd instead of leaving KVM_RUN; this thread
 * waits on all of them and serves the queues. The vCPU goes on running while requests are
 * handled, and several requests made meanwhile are served in one pass. A guest's bad queue is
 * the transport's business (NEEDS_RESET); anything that escapes it is jvmm's fault and stops
 * the VM through {@code fatal}, never a silently dead thread.
 */
final class QueueNotifier implements AutoCloseable {
    /** One eventfd and the queue it stands for. */
    record Target(int eventfd, String name, Runnable serve) {}

    private final List<Target> targets;
    private final Consumer<Throwable> fatal;
    private final Thread thread;
    private volatile boolean running = true;

    QueueNotifier(List<Target> targets, Consumer<Throwable> fatal) {
        this.targets = List.copyOf(targets);
        this.fatal = fatal;
        thread = new Thread(this::loop, "virtio-notify");
        thread.setDaemon(true);
    }

    /** An eventfd registered with KVM for each queue of each device. */
    static QueueNotifier forDevices(KvmVm vm, VirtioSetup devices, Consumer<Throwable> fatal) {
        List<Target> targets = new ArrayList<>();
        for (VirtioSetup.Placed p : devices.placed()) {
            MmioTransport t = p.transport();
            for (int q = 0; q < t.device().queueCount(); q++) {
                int queue = q;
                targets.add(new Target(vm.ioeventfd(p.base() + MmioTransport.notifyOffset(), q),
                        t.device().name() + " queue " + q, () -> t.notifyQueue(queue)));
            }
        }
        return new QueueNotifier(targets, fatal);
    }

    void start() {
        if (!targets.isEmpty()) {
            thread.start();
        }
    }

    private void loop() {
        int[] fds = targets.stream().mapToInt(Target::eventfd).toArray();
        ByteBuffer eight = Syscalls.struct(8);
        Target serving = null;
        try {
            while (running) {
                boolean[] ready = Syscalls.pollInAny(fds, 100);
                for (int i = 0; i < ready.length && running; i++) {
                    if (ready[i] && Syscalls.readEventfd(fds[i], eight) > 0) {
                        serving = targets.get(i);
                        serving.serve().run();
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

    /**
     * Stops the thread and waits, up to {@code millis}, for the request it is serving to end;
     * returns whether it has. Guest memory must not go while it is still running.
     */
    boolean stop(long millis) throws InterruptedException {
        running = false;
        if (thread.isAlive()) {
            thread.join(millis);
        }
        return !thread.isAlive();
    }

    /** Stops the thread (the eventfds close with the VM). */
    @Override
    public void close() throws InterruptedException {
        stop(STOP_MILLIS);
    }

    /** A request in flight finishes well within this; a notifier still busy after it is stuck. */
    static final long STOP_MILLIS = 30_000;
}
