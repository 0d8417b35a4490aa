package dev.jvmm.vmm.sys;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Epoll} on the real kernel with eventfds (no KVM needed). */
class EpollTest {
    /** Waits until {@code t} is blocked inside epoll_wait: its top frame is the native call. */
    static void awaitInEpollWait(Thread t) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            StackTraceElement[] st = t.getStackTrace();
            if (st.length > 0 && st[0].getMethodName().equals("epoll_wait")) {
                return;
            }
            Thread.sleep(1);
        }
        throw new AssertionError("the thread never blocked in epoll_wait");
    }

    @Test
    void aWrittenEventfdIsReportedWithItsToken() {
        int a = Syscalls.eventfd(0);
        int b = Syscalls.eventfd(0);
        try (Epoll e = new Epoll(4)) {
            e.add(a, Epoll.IN, 7);
            e.add(b, Epoll.IN, 9);
            Syscalls.writeEventfd(b, 3);
            assertEquals(1, e.await(-1));
            assertEquals(9, e.token(0));
            assertEquals(Epoll.IN, e.events(0));
            assertFalse(e.woken());
            // Level-triggered: still ready until read.
            assertEquals(1, e.await(0));
            assertEquals(3, Syscalls.readEventfd(b, ByteBuffer.allocateDirect(8).order(java.nio.ByteOrder.LITTLE_ENDIAN)));
            assertEquals(0, e.await(0), "nothing is ready once the counter was read");
            assertFalse(e.woken());
            assertThrows(IndexOutOfBoundsException.class, () -> e.token(0));
        } finally {
            Syscalls.close(a);
            Syscalls.close(b);
        }
    }

    @Test
    void wakeEndsAWaitWithNoTimeout() throws Exception {
        int fd = Syscalls.eventfd(0);
        try (Epoll e = new Epoll(1)) {
            e.add(fd, Epoll.IN, 0);
            AtomicInteger count = new AtomicInteger(-1);
            AtomicReference<Boolean> woken = new AtomicReference<>();
            Thread waiter = new Thread(() -> {
                count.set(e.await(-1));
                woken.set(e.woken());
            });
            waiter.start();
            awaitInEpollWait(waiter);
            e.wake();
            waiter.join(10_000);
            assertFalse(waiter.isAlive(), "wake() ends a wait that has no timeout");
            assertEquals(0, count.get());
            assertTrue(woken.get());
        } finally {
            Syscalls.close(fd);
        }
    }

    @Test
    void aWakeBeforeTheWaitIsNotLostAndIsConsumedOnce() {
        try (Epoll e = new Epoll(1)) {
            e.wake();
            e.wake();
            assertEquals(0, e.await(-1));
            assertTrue(e.woken(), "a wake that came first ends the next wait");
            assertEquals(0, e.await(0));
            assertFalse(e.woken(), "and is used up by it");
        }
    }

    @Test
    void manyFdsAreAllReportedAcrossWaits() {
        List<Integer> fds = new ArrayList<>();
        try (Epoll e = new Epoll(16)) {
            for (int i = 0; i < 200; i++) {
                int fd = Syscalls.eventfd(0);
                fds.add(fd);
                e.add(fd, Epoll.IN, i);
            }
            Set<Long> expected = new HashSet<>();
            for (int i = 0; i < 200; i += 3) {
                Syscalls.writeEventfd(fds.get(i), 1);
                expected.add((long) i);
            }
            Set<Long> seen = new HashSet<>();
            ByteBuffer eight = ByteBuffer.allocateDirect(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            int n;
            while ((n = e.await(0)) > 0) {
                assertTrue(n <= 16, "never more than maxEvents at once");
                for (int i = 0; i < n; i++) {
                    assertTrue(seen.add(e.token(i)), "each ready fd once, as it is drained");
                    assertEquals(1, Syscalls.readEventfd(fds.get((int) e.token(i)), eight));
                }
            }
            assertEquals(expected, seen);
            // A removed fd is no longer reported.
            e.remove(fds.get(0));
            Syscalls.writeEventfd(fds.get(0), 1);
            assertEquals(0, e.await(0));
        } finally {
            fds.forEach(Syscalls::close);
        }
    }

    @Test
    void aTimeoutEndsTheWaitWithNothingReady() {
        try (Epoll e = new Epoll(1)) {
            assertEquals(0, e.await(5));
            assertFalse(e.woken());
        }
    }

    @Test
    void misuseIsAnExceptionWithTheErrno() {
        int fd = Syscalls.eventfd(0);
        try (Epoll e = new Epoll(1)) {
            e.add(fd, Epoll.IN, 1);
            SyscallException twice = assertThrows(SyscallException.class, () -> e.add(fd, Epoll.IN, 1));
            assertEquals(Errno.EEXIST, twice.errno());
            assertThrows(IllegalArgumentException.class, () -> e.modify(fd, Epoll.IN, -1));
            Syscalls.close(fd);
            SyscallException closed = assertThrows(SyscallException.class, () -> e.add(fd, Epoll.IN, 2));
            assertEquals(Errno.EBADF, closed.errno());
            assertTrue(closed.getMessage().contains("EBADF"), closed.getMessage());
        }
    }
}
