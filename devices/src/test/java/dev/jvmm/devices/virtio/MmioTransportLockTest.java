package dev.jvmm.devices.virtio;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.jvmm.devices.virtio.VirtqueueDriver.readReg;
import static dev.jvmm.devices.virtio.VirtqueueDriver.reg;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Register accesses while the device is stuck in its queue work (held on a latch, as a slow
 * disk would hold it): they must complete without it. The 30 s bound only turns a hang into a
 * failure; nothing here measures speed.
 */
class MmioTransportLockTest {
    private static final long HANG = 30;

    private void whileDeviceIsBusy(boolean viaIoeventfd, Access registerAccesses) throws Exception {
        GateDevice dev = new GateDevice();
        TestBench b = new TestBench(dev).start();
        VirtqueueDriver q = b.queue(0);
        q.add(q.writable(32));
        CountDownLatch gate = new CountDownLatch(1);
        dev.gate = gate;
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<?> io = pool.submit(() -> {
                if (viaIoeventfd) {
                    b.transport.notifyQueue(0);
                } else {
                    b.kick(0);
                }
            });
            assertTrue(dev.entered.await(HANG, TimeUnit.SECONDS), "device work started");
            Future<?> regs = pool.submit(() -> registerAccesses.accept(b));
            regs.get(HANG, TimeUnit.SECONDS); // a TimeoutException here: the read waited on device I/O
            assertEquals(1, gate.getCount(), "the device was still blocked throughout");
            gate.countDown();
            io.get(HANG, TimeUnit.SECONDS);
            assertEquals(32, q.nextUsed().len());
            assertEquals(MmioTransport.INT_USED_RING, readReg(b.transport, MmioTransport.REG_INTERRUPT_STATUS));
        } finally {
            gate.countDown();
            pool.shutdownNow();
        }
    }

    /** What a second vCPU does while the first one's notify is stuck in the device. */
    private interface Access {
        void accept(TestBench b);
    }

    @Test
    void registerReadsDoNotWaitForAQueueNotifyFromAVcpu() throws Exception {
        whileDeviceIsBusy(false, MmioTransportLockTest::readEverything);
    }

    @Test
    void registerReadsDoNotWaitForAnIoeventfdNotify() throws Exception {
        whileDeviceIsBusy(true, MmioTransportLockTest::readEverything);
    }

    @Test
    void interruptAckAndQueueSelectionDoNotWaitEither() throws Exception {
        whileDeviceIsBusy(false, b -> {
            reg(b.transport, MmioTransport.REG_INTERRUPT_ACK, MmioTransport.INT_CONFIG);
            reg(b.transport, MmioTransport.REG_QUEUE_SEL, 1);
            assertEquals(1, readReg(b.transport, MmioTransport.REG_QUEUE_READY));
            reg(b.transport, MmioTransport.REG_QUEUE_SEL, 0);
        });
    }

    private static void readEverything(TestBench b) {
        assertEquals(0, readReg(b.transport, MmioTransport.REG_INTERRUPT_STATUS));
        assertEquals(MmioTransport.STATUS_ACKNOWLEDGE | MmioTransport.STATUS_DRIVER | MmioTransport.STATUS_FEATURES_OK
                | MmioTransport.STATUS_DRIVER_OK, readReg(b.transport, MmioTransport.REG_STATUS));
        assertEquals(0, readReg(b.transport, MmioTransport.REG_CONFIG_GENERATION));
        assertEquals(MmioTransport.MAGIC, readReg(b.transport, MmioTransport.REG_MAGIC));
        assertEquals(256, readReg(b.transport, MmioTransport.REG_QUEUE_NUM_MAX));
        assertEquals(1, readReg(b.transport, MmioTransport.REG_QUEUE_READY));
        byte[] cfg = new byte[4];
        b.transport.read(MmioTransport.REG_CONFIG, cfg);
        assertArrayEquals(new byte[] {1, 2, 3, 4}, cfg);
    }
}
