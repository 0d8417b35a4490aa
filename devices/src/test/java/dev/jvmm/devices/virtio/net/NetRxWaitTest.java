package dev.jvmm.devices.virtio.net;

import dev.jvmm.devices.virtio.TestBench;
import dev.jvmm.devices.virtio.VirtqueueDriver;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.jvmm.devices.virtio.net.NetRxFailureTest.await;
import static dev.jvmm.devices.virtio.net.NetRxFailureTest.frame;
import static dev.jvmm.devices.virtio.net.NetRxFailureTest.needsReset;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How the rx reader waits: for an event every time, never for a timeout. A reader with a frame
 * and no rx buffer has published avail_event and sleeps until the refill notify; reset and stop
 * wake it too; a backend that fails while no driver runs is not retried in a loop.
 */
class NetRxWaitTest {
    static final byte[] MAC = {0x06, 0, 0x4a, 0x56, 0x4d, 3};

    /** Waits until thread {@code name} sleeps with no timeout (WAITING, not TIMED_WAITING) in {@code method}. */
    static void awaitWaitingIn(String name, String method) throws InterruptedException {
        await(() -> {
            for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
                if (e.getKey().getName().equals(name) && e.getKey().getState() == Thread.State.WAITING
                        && Arrays.stream(e.getValue()).anyMatch(f -> f.getMethodName().equals(method))) {
                    return true;
                }
            }
            return false;
        }, name + " waits, with no timeout, in " + method);
    }

    @Test
    void noBufferPublishesAvailEventAndTheRefillNotifyWakesTheReader() throws Exception {
        NetDevice net = new NetDevice("net0", MAC, new NetDeviceTest.FakeBackend(false));
        TestBench b = new TestBench(net).start();
        NetRxFailureTest.ScriptedSource source = new NetRxFailureTest.ScriptedSource();
        FrameReader reader = new FrameReader(source, net);
        reader.start("rx-wait-1");
        try {
            VirtqueueDriver rx = b.queue(0);
            rx.add(rx.writable(2048));
            rx.add(rx.writable(2048));
            b.kick(0);
            source.script.add(frame(1));
            source.script.add(frame(2));
            source.script.add(frame(3)); // one more than the guest has buffers for
            awaitWaitingIn("rx-wait-1", "receiveOrWait");
            assertEquals(2, rx.usedIndex());
            assertEquals(rx.availIndex(), rx.availEvent(), "before it sleeps, the device asks to be notified at the avail index");
            int old = rx.availIndex();
            VirtqueueDriver.Buf refill = rx.writable(2048);
            rx.add(refill);
            assertTrue(rx.needsKick(old), "so the guest's refill notifies");
            b.kick(0);
            await(() -> rx.usedIndex() == 3, "the held frame goes into the refilled buffer");
            assertEquals(3, rx.contents(refill)[NetDevice.HEADER_SIZE]);
            assertEquals(0, net.metrics().get("rx_dropped"));
            assertEquals(3, net.metrics().get("rx_packets"));
        } finally {
            assertTrue(reader.stop());
        }
    }

    @Test
    void stopWakesAReaderWaitingForBuffers() throws Exception {
        NetDevice net = new NetDevice("net0", MAC, new NetDeviceTest.FakeBackend(false));
        new TestBench(net).start();
        NetRxFailureTest.ScriptedSource source = new NetRxFailureTest.ScriptedSource();
        FrameReader reader = new FrameReader(source, net);
        reader.start("rx-wait-2");
        source.script.add(frame(1));
        awaitWaitingIn("rx-wait-2", "receiveOrWait");
        assertTrue(reader.stop(), "the reader ends");
    }

    @Test
    void stopWakesAReaderWaitingForTheBackend() throws Exception {
        NetDevice net = new NetDevice("net0", MAC, new NetDeviceTest.FakeBackend(false));
        new TestBench(net).start();
        FrameReader reader = new FrameReader(new NetRxFailureTest.ScriptedSource(), net);
        reader.start("rx-wait-3");
        awaitWaitingIn("rx-wait-3", "read");
        assertTrue(reader.stop(), "the reader ends");
    }

    @Test
    void aResetDropsTheHeldFrameAndTheReaderReadsOn() throws Exception {
        NetDevice net = new NetDevice("net0", MAC, new NetDeviceTest.FakeBackend(false));
        TestBench b = new TestBench(net).start();
        NetRxFailureTest.ScriptedSource source = new NetRxFailureTest.ScriptedSource();
        FrameReader reader = new FrameReader(source, net);
        reader.start("rx-wait-4");
        try {
            source.script.add(frame(1));
            awaitWaitingIn("rx-wait-4", "receiveOrWait");
            VirtqueueDriver.reg(b.transport, 0x070, 0); // the driver resets the device
            await(() -> net.metrics().get("rx_dropped") == 1, "the held frame is dropped");
            awaitWaitingIn("rx-wait-4", "read");
        } finally {
            assertTrue(reader.stop());
        }
    }

    @Test
    void aBackendFailingWhileNoDriverRunsIsRetriedAtDriverOkNotInALoop() throws Exception {
        NetDevice net = new NetDevice("net0", MAC, new NetDeviceTest.FakeBackend(false));
        TestBench b = new TestBench(net); // no DRIVER_OK yet
        AtomicInteger reads = new AtomicInteger();
        FrameReader.Source broken = new FrameReader.Source() {
            @Override
            public long read(ByteBuffer into) {
                reads.incrementAndGet();
                throw new IllegalStateException("injected: backend broke");
            }

            @Override
            public void wake() {}
        };
        FrameReader reader = new FrameReader(broken, net);
        reader.start("rx-wait-5");
        try {
            awaitWaitingIn("rx-wait-5", "awaitRecovery");
            assertEquals(1, reads.get(), "one failure, then it waits for a driver");
            assertFalse(needsReset(b), "no driver to tell yet");
            b.start();
            await(() -> needsReset(b), "the retry at DRIVER_OK fails again, and the driver hears of it");
            awaitWaitingIn("rx-wait-5", "awaitRecovery");
            assertEquals(2, reads.get());
            assertEquals(2, net.metrics().get("rx_errors"));
        } finally {
            assertTrue(reader.stop());
        }
    }
}
