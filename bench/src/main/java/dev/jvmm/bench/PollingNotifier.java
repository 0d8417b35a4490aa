package dev.jvmm.bench;

import dev.jvmm.devices.virtio.QueueNotifier;
import dev.jvmm.vmm.sys.Syscalls;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.Consumer;

/**
 * The baseline for {@link NotifyBenchmark}: the queue notifier as it was before it moved to
 * epoll, kept byte for byte in what it does per wake-up (poll(2) over every eventfd, rebuilt on
 * each call, with a 100 ms timeout only so that it notices a stop). Not used by jvmm itself.
 */
final class PollingNotifier {
    private final List<QueueNotifier.Target> targets;
    private final Consumer<Throwable> fatal;
    private final Thread thread;
    private volatile boolean running = true;

    PollingNotifier(List<QueueNotifier.Target> targets, Consumer<Throwable> fatal) {
        this.targets = List.copyOf(targets);
        this.fatal = fatal;
        thread = new Thread(this::loop, "virtio-notify");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    private void loop() {
        int[] fds = targets.stream().mapToInt(QueueNotifier.Target::eventfd).toArray();
        ByteBuffer eight = Syscalls.struct(8);
        try {
            while (running) {
                boolean[] ready = Syscalls.pollInAny(fds, 100);
                for (int i = 0; i < ready.length && running; i++) {
                    if (ready[i] && Syscalls.readEventfd(fds[i], eight) > 0) {
                        targets.get(i).serve().run();
                    }
                }
            }
        } catch (Throwable t) {
            running = false;
            fatal.accept(t);
        }
    }

    boolean stop(long millis) throws InterruptedException {
        running = false;
        if (thread.isAlive()) {
            thread.join(millis);
        }
        return !thread.isAlive();
    }
}
