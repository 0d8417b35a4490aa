package dev.jvmm.machine;

import dev.jvmm.devices.virtio.MmioTransport;
import dev.jvmm.vmm.kvm.KvmVm;
import dev.jvmm.vmm.sys.Syscalls;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Queue notifications through KVM_IOEVENTFD: the guest's QueueNotify write for queue i of a
 * device is caught by KVM, which signals an eventfd instead of leaving KVM_RUN; this thread
 * waits on all of them and serves the queues. The vCPU goes on running while requests are
 * handled, and several requests made meanwhile are served in one pass.
 */
final class QueueNotifier implements AutoCloseable {
    private record Target(int eventfd, MmioTransport transport, int queue) {}

    private final List<Target> targets = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;

    QueueNotifier(KvmVm vm, VirtioSetup devices) {
        for (VirtioSetup.Placed p : devices.placed()) {
            for (int q = 0; q < p.transport().device().queueCount(); q++) {
                targets.add(new Target(vm.ioeventfd(p.base() + MmioTransport.notifyOffset(), q), p.transport(), q));
            }
        }
        thread = new Thread(this::loop, "virtio-notify");
        thread.setDaemon(true);
    }

    void start() {
        if (!targets.isEmpty()) {
            thread.start();
        }
    }

    private void loop() {
        int[] fds = targets.stream().mapToInt(Target::eventfd).toArray();
        ByteBuffer eight = Syscalls.struct(8);
        while (running) {
            boolean[] ready = Syscalls.pollInAny(fds, 100);
            for (int i = 0; i < ready.length; i++) {
                if (ready[i] && Syscalls.readEventfd(fds[i], eight) > 0) {
                    targets.get(i).transport().notifyQueue(targets.get(i).queue());
                }
            }
        }
    }

    /** Stops the thread; the eventfds close with the VM. */
    @Override
    public void close() throws InterruptedException {
        running = false;
        if (thread.isAlive()) {
            thread.join(2000);
        }
    }
}
