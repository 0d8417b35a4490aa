package dev.jvmm.devices.virtio;

import dev.jvmm.devices.virtio.rng.RngDevice;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;

import static dev.jvmm.devices.virtio.VirtqueueDriver.readReg;
import static dev.jvmm.devices.virtio.VirtqueueDriver.reg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MmioTransportTest {
    private final RngDevice rng = new RngDevice(new SecureRandom());

    @Test
    void identifiesAsModernVirtioMmio() {
        TestBench b = new TestBench(rng);
        assertEquals(0x74726976, readReg(b.transport, MmioTransport.REG_MAGIC));
        assertEquals(2, readReg(b.transport, MmioTransport.REG_VERSION));
        assertEquals(VirtioDevice.TYPE_RNG, readReg(b.transport, MmioTransport.REG_DEVICE_ID));
        reg(b.transport, MmioTransport.REG_DEVICE_FEATURES_SEL, 1);
        int high = readReg(b.transport, MmioTransport.REG_DEVICE_FEATURES);
        assertTrue((high & 1) != 0, "VERSION_1 (bit 32) offered");
        reg(b.transport, MmioTransport.REG_DEVICE_FEATURES_SEL, 0);
        int low = readReg(b.transport, MmioTransport.REG_DEVICE_FEATURES);
        assertTrue((low & (1 << VirtioFeatures.RING_EVENT_IDX)) != 0 && (low & (1 << VirtioFeatures.RING_INDIRECT_DESC)) != 0);
        assertEquals(256, readReg(b.transport, MmioTransport.REG_QUEUE_NUM_MAX));
    }

    @Test
    void featuresOkRefusedWithoutVersion1OrWithUnofferedBits() {
        TestBench b = new TestBench(rng);
        long got = VirtqueueDriver.negotiate(b.transport, VirtioFeatures.bit(VirtioFeatures.RING_EVENT_IDX));
        assertEquals(VirtioFeatures.bit(VirtioFeatures.RING_EVENT_IDX), got);
        assertEquals(0, b.transport.status() & MmioTransport.STATUS_FEATURES_OK, "legacy driver refused");
        reg(b.transport, MmioTransport.REG_STATUS, 0);
        reg(b.transport, MmioTransport.REG_STATUS, 3);
        reg(b.transport, MmioTransport.REG_DRIVER_FEATURES_SEL, 1);
        reg(b.transport, MmioTransport.REG_DRIVER_FEATURES, 1 | 1 << 20); // VERSION_1 and bit 52, not offered
        reg(b.transport, MmioTransport.REG_STATUS, 3 | MmioTransport.STATUS_FEATURES_OK);
        assertEquals(0, b.transport.status() & MmioTransport.STATUS_FEATURES_OK);
        // DRIVER_OK without FEATURES_OK does not start the device.
        reg(b.transport, MmioTransport.REG_STATUS, 3 | MmioTransport.STATUS_DRIVER_OK);
        assertEquals(0, b.transport.status() & MmioTransport.STATUS_DRIVER_OK);
    }

    @Test
    void usedBuffersRaiseAnInterruptThatTheDriverAcks() {
        TestBench b = new TestBench(rng).start();
        VirtqueueDriver q = b.queue(0);
        q.add(q.writable(64));
        b.kick(0);
        assertEquals(1, b.edges.get());
        assertEquals(MmioTransport.INT_USED_RING, readReg(b.transport, MmioTransport.REG_INTERRUPT_STATUS));
        reg(b.transport, MmioTransport.REG_INTERRUPT_ACK, MmioTransport.INT_USED_RING);
        assertEquals(0, readReg(b.transport, MmioTransport.REG_INTERRUPT_STATUS));
        assertEquals(64, q.nextUsed().len());
    }

    @Test
    void eventIdxSuppressesInterruptsUntilTheDriverAsks() {
        TestBench b = new TestBench(rng).start();
        assertTrue(VirtioFeatures.has(b.negotiated, VirtioFeatures.RING_EVENT_IDX));
        VirtqueueDriver q = b.queue(0);
        q.setUsedEvent(1); // interrupt only once used idx passes 1, i.e. after the second buffer
        q.add(q.writable(8));
        b.kick(0);
        assertEquals(0, b.edges.get());
        q.add(q.writable(8));
        b.kick(0);
        assertEquals(1, b.edges.get());
        assertEquals(2, q.availEvent(), "device says where to notify next");
    }

    @Test
    void noInterruptFlagHonouredWithoutEventIdx() {
        TestBench b = new TestBench(rng).start(VirtioFeatures.bit(VirtioFeatures.VERSION_1));
        VirtqueueDriver q = b.queue(0);
        q.setAvailFlags(Virtqueue.AVAIL_F_NO_INTERRUPT);
        q.add(q.writable(8));
        b.kick(0);
        assertEquals(0, b.edges.get());
        assertNotNull(q.nextUsed());
    }

    @Test
    void resetForgetsQueuesAndTheDeviceStartsAgain() {
        TestBench b = new TestBench(rng).start();
        VirtqueueDriver q = b.queue(0);
        q.add(q.writable(8));
        b.kick(0);
        reg(b.transport, MmioTransport.REG_STATUS, 0);
        assertEquals(0, b.transport.status());
        reg(b.transport, MmioTransport.REG_QUEUE_SEL, 0);
        assertEquals(0, readReg(b.transport, MmioTransport.REG_QUEUE_READY));
        // A notify after reset does nothing.
        q.add(q.writable(8));
        b.kick(0);
        assertEquals(1, q.usedIndex());
        // Fresh rings, fresh start.
        VirtqueueDriver q2 = new VirtqueueDriver(b.memory, 0x200000, 64, 0x300000, 0x10000);
        VirtqueueDriver.negotiate(b.transport, -1L);
        q2.attach(b.transport, 0);
        VirtqueueDriver.driverOk(b.transport);
        q2.add(q2.writable(16));
        q2.kick(b.transport, 0);
        assertEquals(16, q2.nextUsed().len());
    }

    @Test
    void queueResetLetsOneQueueBeLaidOutAgain() {
        TestBench b = new TestBench(rng).start();
        assertTrue(VirtioFeatures.has(b.negotiated, VirtioFeatures.RING_RESET));
        b.queue(0).add(b.queue(0).writable(8));
        b.kick(0);
        reg(b.transport, MmioTransport.REG_QUEUE_SEL, 0);
        reg(b.transport, MmioTransport.REG_QUEUE_RESET, 1);
        assertEquals(1, readReg(b.transport, MmioTransport.REG_QUEUE_RESET));
        assertEquals(0, readReg(b.transport, MmioTransport.REG_QUEUE_READY));
        VirtqueueDriver fresh = new VirtqueueDriver(b.memory, 0x200000, 128, 0x300000, 0x10000);
        fresh.attach(b.transport, 0);
        assertEquals(0, readReg(b.transport, MmioTransport.REG_QUEUE_RESET));
        fresh.add(fresh.writable(32));
        fresh.kick(b.transport, 0);
        assertEquals(32, fresh.nextUsed().len());
        assertNull(fresh.nextUsed());
    }

    @Test
    void badQueueLayoutIsNotEnabled() {
        TestBench b = new TestBench(rng);
        VirtqueueDriver.negotiate(b.transport, -1L);
        reg(b.transport, MmioTransport.REG_QUEUE_SEL, 0);
        reg(b.transport, MmioTransport.REG_QUEUE_NUM, 100); // not a power of two
        reg(b.transport, MmioTransport.REG_QUEUE_DESC_LOW, 0x1000);
        reg(b.transport, MmioTransport.REG_QUEUE_DRIVER_LOW, 0x2000);
        reg(b.transport, MmioTransport.REG_QUEUE_DEVICE_LOW, 0x3000);
        reg(b.transport, MmioTransport.REG_QUEUE_READY, 1);
        assertEquals(0, readReg(b.transport, MmioTransport.REG_QUEUE_READY));
        reg(b.transport, MmioTransport.REG_QUEUE_NUM, 64);
        reg(b.transport, MmioTransport.REG_QUEUE_DESC_HIGH, 0x10); // beyond RAM
        reg(b.transport, MmioTransport.REG_QUEUE_READY, 1);
        assertEquals(0, readReg(b.transport, MmioTransport.REG_QUEUE_READY));
        assertEquals(2, b.log.size(), String.join("\n", b.log));
    }

    @Test
    void hostileChainSetsNeedsResetAndRaisesConfigInterrupt() {
        TestBench b = new TestBench(rng).start();
        VirtqueueDriver q = b.queue(0);
        q.rawDescriptor(0, 0x100000, 8, Virtqueue.DESC_F_WRITE | Virtqueue.DESC_F_NEXT, 0); // loops on itself
        q.publish(0);
        b.kick(0);
        assertTrue((b.transport.status() & MmioTransport.STATUS_NEEDS_RESET) != 0);
        assertEquals(MmioTransport.INT_CONFIG, readReg(b.transport, MmioTransport.REG_INTERRUPT_STATUS));
        assertEquals(1, rng.metrics().get("queue_errors"));
        reg(b.transport, MmioTransport.REG_STATUS, 0);
        assertEquals(0, b.transport.status(), "reset clears NEEDS_RESET");
    }
}
