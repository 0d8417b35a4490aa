package dev.jvmm.machine;

import dev.jvmm.vmm.sys.Syscalls;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The notifier thread never dies silently, and teardown can tell whether a request is still
 * writing into guest memory (real eventfds; no KVM needed).
 */
class QueueNotifierTest {
    @Test
    void anErrorInADeviceStopsTheVmWithItsName() throws Exception {
        int fd = Syscalls.eventfd(0);
        try {
            AtomicReference<Throwable> fatal = new AtomicReference<>();
            CountDownLatch reported = new CountDownLatch(1);
            QueueNotifier n = new QueueNotifier(List.of(new QueueNotifier.Target(fd, "blk0 queue 0", () -> {
                throw new OutOfMemoryError("simulated");
            })), t -> {
                fatal.set(t);
                reported.countDown();
            });
            n.start();
            Syscalls.writeEventfd(fd, 1);
            assertTrue(reported.await(10, TimeUnit.SECONDS), "an Error reaches the VM's stop");
            assertNotNull(fatal.get());
            assertTrue(fatal.get().getMessage().contains("blk0 queue 0") && fatal.get().getMessage().contains("simulated"),
                    fatal.get().getMessage());
            assertTrue(n.stop(5000));
        } finally {
            Syscalls.close(fd);
        }
    }

    @Test
    void stopWaitsForTheRequestInFlight() throws Exception {
        int fd = Syscalls.eventfd(0);
        try {
            CountDownLatch serving = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            QueueNotifier n = new QueueNotifier(List.of(new QueueNotifier.Target(fd, "blk0 queue 0", () -> {
                serving.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            })), t -> { });
            n.start();
            Syscalls.writeEventfd(fd, 1);
            assertTrue(serving.await(10, TimeUnit.SECONDS));
            assertFalse(n.stop(200), "a request still in flight: guest memory must stay");
            release.countDown();
            assertTrue(n.stop(10_000), "once it ends, the thread is gone");
        } finally {
            Syscalls.close(fd);
        }
    }
}
