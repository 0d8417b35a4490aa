package dev.jvmm.vmm.vcpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunControlTest {
    @Test
    void firstStopWins() throws InterruptedException {
        RunControl c = new RunControl();
        assertFalse(c.isStopped());
        assertNull(c.reason());
        StopReason first = StopReason.exitRegister(3);
        c.stop(first);
        c.stop(StopReason.exitRegister(4));
        assertTrue(c.isStopped());
        assertSame(first, c.reason());
        assertSame(first, c.await(0));
        assertSame(first, c.await(10));
        assertThrows(NullPointerException.class, () -> c.stop(null));
    }

    @Test
    void awaitTimesOutWithoutAStop() throws InterruptedException {
        RunControl c = new RunControl();
        long t0 = System.nanoTime();
        assertNull(c.await(30));
        assertTrue(System.nanoTime() - t0 >= 30_000_000L, "waited the whole timeout");
    }

    @Test
    void awaitWakesWhenAnotherThreadStops() throws Exception {
        RunControl c = new RunControl();
        StopReason reason = StopReason.exitRegister(7);
        Thread stopper = new Thread(() -> {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            c.stop(reason);
        });
        stopper.start();
        assertEquals(reason, c.await(0));
        stopper.join();
    }
}
