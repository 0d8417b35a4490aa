package dev.jvmm.devices.virtio;

import dev.jvmm.vmm.sys.Syscalls;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The notifier serves every queue whose eventfd fired, stops at once when told even though it
 * waits with no timeout, never dies silently, and lets teardown tell whether a request is still
 * writing into guest memory (real eventfds; no KVM needed).
 */
class QueueNotifierTest {
    /** Waits until the notifier's thread is blocked in epoll_wait (its top frame is the native call). */
    static void awaitBlocked() throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
                StackTraceElement[] st = e.getValue();
                if (e.getKey().getName().equals("virtio-notify") && st.length > 0 && st[0].getMethodName().equals("epoll_wait")) {
                    return;
                }
            }
            Thread.sleep(1);
        }
        throw new AssertionError("the notifier never blocked in epoll_wait");
    }

    @Test
    void everyQueueWhoseEventfdFiredIsServed() throws Exception {
        List<Integer> fds = new ArrayList<>();
        Map<String, AtomicInteger> served = new ConcurrentHashMap<>();
        CountDownLatch three = new CountDownLatch(3);
        List<QueueNotifier.Target> targets = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            int fd = Syscalls.eventfd(0);
            fds.add(fd);
            String name = "dev queue " + i;
            targets.add(new QueueNotifier.Target(fd, name, () -> {
                served.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
                three.countDown();
            }));
        }
        AtomicReference<Throwable> fatal = new AtomicReference<>();
        QueueNotifier n = new QueueNotifier(targets, fatal::set);
        try {
            // Kicked before the thread starts, so both kicks of queue 6 are pending when it first
            // looks (a thread already waiting could serve the first before the second arrives).
            Syscalls.writeEventfd(fds.get(1), 1);
            Syscalls.writeEventfd(fds.get(6), 1);
            Syscalls.writeEventfd(fds.get(6), 1); // two kicks before it is served: one pass serves both
            Syscalls.writeEventfd(fds.get(7), 1);
            n.start();
            assertTrue(three.await(10, TimeUnit.SECONDS), "each fired queue is served");
            assertTrue(n.stop(10_000));
            assertEquals(Map.of("dev queue 1", 1, "dev queue 6", 1, "dev queue 7", 1),
                    Map.copyOf(served.entrySet().stream().collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> e.getValue().get()))));
            assertNull(fatal.get());
        } finally {
            n.stop(10_000);
            fds.forEach(Syscalls::close);
        }
    }

    @Test
    void stopWakesANotifierBlockedWithNoTimeout() throws Exception {
        int fd = Syscalls.eventfd(0);
        try {
            QueueNotifier n = new QueueNotifier(List.of(new QueueNotifier.Target(fd, "blk0 queue 0", () -> { })), t -> { });
            n.start();
            awaitBlocked();
            // Far below the 30 s a request may take: only a woken thread can be gone by then.
            assertTrue(n.stop(10_000), "stop() returns with the thread gone");
            assertFalse(n.isAlive());
            assertTrue(n.stop(10_000), "stopping twice is harmless");
        } finally {
            Syscalls.close(fd);
        }
    }

    @Test
    void aNotifierNeverStartedStopsCleanly() throws Exception {
        int fd = Syscalls.eventfd(0);
        try {
            QueueNotifier n = new QueueNotifier(List.of(new QueueNotifier.Target(fd, "q", () -> { })), t -> { });
            assertTrue(n.stop(1000));
            n.start(); // after a stop: does nothing
            assertFalse(n.isAlive());
        } finally {
            Syscalls.close(fd);
        }
    }

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
