package dev.jvmm.devices.virtio;

import dev.jvmm.devices.virtio.rng.RngDevice;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;

import static dev.jvmm.devices.virtio.VirtqueueDriver.readReg;
import static dev.jvmm.devices.virtio.VirtqueueDriver.reg;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Guest register writes a driver would never make: out-of-range selectors, sizes and late layouts. */
class MmioTransportHostileTest {
    private static final int[] SELECTORS = {0x80000000, -1, 2, 0xffff, 0x10000, 0x7fffffff};

    @Test
    void outOfRangeQueueSelReadsAsNoQueueAndIgnoresWrites() {
        TestBench b = new TestBench(new RngDevice(new SecureRandom())).start();
        for (int sel : SELECTORS) {
            reg(b.transport, MmioTransport.REG_QUEUE_SEL, sel);
            assertEquals(0, readReg(b.transport, MmioTransport.REG_QUEUE_RESET), "QueueSel " + sel);
            assertEquals(0, readReg(b.transport, MmioTransport.REG_QUEUE_NUM_MAX));
            assertEquals(0, readReg(b.transport, MmioTransport.REG_QUEUE_READY));
            for (int r : new int[] {MmioTransport.REG_QUEUE_NUM, MmioTransport.REG_QUEUE_DESC_LOW, MmioTransport.REG_QUEUE_READY,
                    MmioTransport.REG_QUEUE_RESET, MmioTransport.REG_QUEUE_NOTIFY}) {
                reg(b.transport, r, 1);
            }
            reg(b.transport, MmioTransport.REG_QUEUE_NOTIFY, sel);
            assertDoesNotThrow(() -> b.transport.notifyQueue(sel));
        }
        assertEquals(0, b.transport.status() & MmioTransport.STATUS_NEEDS_RESET);
        assertEquals(256, b.transport.queue(0).size(), "queue 0 untouched");
    }

    @Test
    void outOfRangeFeatureSelectorsChangeNothing() {
        TestBench b = new TestBench(new RngDevice(new SecureRandom()));
        reg(b.transport, MmioTransport.REG_STATUS, MmioTransport.STATUS_ACKNOWLEDGE | MmioTransport.STATUS_DRIVER);
        for (int sel : SELECTORS) {
            reg(b.transport, MmioTransport.REG_DEVICE_FEATURES_SEL, sel);
            assertEquals(0, readReg(b.transport, MmioTransport.REG_DEVICE_FEATURES), "DeviceFeaturesSel " + sel);
            reg(b.transport, MmioTransport.REG_DRIVER_FEATURES_SEL, sel);
            reg(b.transport, MmioTransport.REG_DRIVER_FEATURES, -1);
        }
        assertEquals(0, b.transport.negotiatedFeatures(), "a selector past word 1 selects nothing");
    }

    @Test
    void queueNumIsValidatedBeforeTheQueueCanBeEnabled() {
        TestBench b = new TestBench(new RngDevice(new SecureRandom()));
        VirtqueueDriver.negotiate(b.transport, -1L);
        VirtqueueDriver q = b.queue(0);
        for (int bad : new int[] {0, 3, 100, 512, 0x8000, 0x80000000, -1}) {
            q.attach(b.transport, 0);
            reg(b.transport, MmioTransport.REG_QUEUE_READY, 0);
            assertFalse(b.transport.queue(0).setSize(bad), "QueueNum " + bad);
            reg(b.transport, MmioTransport.REG_QUEUE_NUM, bad);
            reg(b.transport, MmioTransport.REG_QUEUE_READY, 1);
            assertEquals(0, readReg(b.transport, MmioTransport.REG_QUEUE_READY), "QueueNum " + bad);
        }
        reg(b.transport, MmioTransport.REG_QUEUE_NUM, 256);
        reg(b.transport, MmioTransport.REG_QUEUE_READY, 1);
        assertEquals(1, readReg(b.transport, MmioTransport.REG_QUEUE_READY));
    }

    @Test
    void aQueueOfADeviceThatNeedsResetKeepsItsLayoutAndIsNotWalked() {
        GateDevice dev = new GateDevice();
        TestBench b = new TestBench(dev).start();
        Virtqueue q0 = b.transport.queue(0);
        VirtqueueDriver d = b.queue(0);
        d.rawDescriptor(0, 0x100000, 8, Virtqueue.DESC_F_WRITE | Virtqueue.DESC_F_NEXT, 0); // loops on itself
        d.publish(0);
        b.kick(0);
        assertTrue((b.transport.status() & MmioTransport.STATUS_NEEDS_RESET) != 0);
        assertEquals(1, readReg(b.transport, MmioTransport.REG_QUEUE_READY), "QueueReady reads what was accepted");
        long desc = q0.descTable();
        reg(b.transport, MmioTransport.REG_QUEUE_SEL, 0);
        reg(b.transport, MmioTransport.REG_QUEUE_NUM, 0);
        reg(b.transport, MmioTransport.REG_QUEUE_DESC_LOW, 0x7ffff000);
        reg(b.transport, MmioTransport.REG_QUEUE_DRIVER_HIGH, 0x10);
        reg(b.transport, MmioTransport.REG_QUEUE_DEVICE_LOW, 0x3);
        reg(b.transport, MmioTransport.REG_QUEUE_READY, 1);
        assertEquals(256, q0.size(), "QueueNum ignored while QueueReady is 1");
        assertEquals(desc, q0.descTable());
        assertEquals(d.availRing(), q0.availRing());
        assertEquals(d.usedRing(), q0.usedRing());
        // A device thread finishing a chain it took earlier (a TAP reader, say) neither divides
        // by zero nor writes anything back.
        int usedBefore = d.usedIndex();
        assertDoesNotThrow(() -> q0.addUsed(0, 8));
        assertDoesNotThrow(q0::needsInterrupt);
        assertEquals(usedBefore, d.usedIndex());
    }

    @Test
    void needsResetStopsEveryQueueNotJustTheBrokenOne() {
        GateDevice dev = new GateDevice();
        TestBench b = new TestBench(dev).start();
        VirtqueueDriver good = b.queue(1);
        good.add(good.writable(16));
        VirtqueueDriver bad = b.queue(0);
        bad.rawDescriptor(0, 0x100000, 8, Virtqueue.DESC_F_WRITE | Virtqueue.DESC_F_NEXT, 0);
        bad.publish(0);
        b.kick(0);
        assertTrue((b.transport.status() & MmioTransport.STATUS_NEEDS_RESET) != 0);
        DeviceContext ctx = dev.context();
        assertNotNull(ctx);
        ctx.drain(1, dev::fill); // the device's own thread, not a notify: still nothing
        b.kick(1);
        assertNull(good.nextUsed(), "no queue is processed until reset");
        assertEquals(0, dev.metrics().get("chains"));
        // After a reset the same rings work again.
        reg(b.transport, MmioTransport.REG_STATUS, 0);
        VirtqueueDriver fresh = new VirtqueueDriver(b.memory, 0x200000, 64, 0x300000, 0x10000);
        VirtqueueDriver.negotiate(b.transport, -1L);
        fresh.attach(b.transport, 1);
        VirtqueueDriver.driverOk(b.transport);
        fresh.add(fresh.writable(16));
        fresh.kick(b.transport, 1);
        assertEquals(16, fresh.nextUsed().len());
    }

    @Test
    void theDriverCannotSetNeedsReset() {
        TestBench b = new TestBench(new RngDevice(new SecureRandom())).start();
        reg(b.transport, MmioTransport.REG_STATUS, b.transport.status() | MmioTransport.STATUS_NEEDS_RESET);
        assertEquals(0, b.transport.status() & MmioTransport.STATUS_NEEDS_RESET);
        VirtqueueDriver q = b.queue(0);
        q.add(q.writable(8));
        b.kick(0);
        assertEquals(8, q.nextUsed().len());
    }
}
