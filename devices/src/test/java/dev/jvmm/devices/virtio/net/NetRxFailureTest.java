package dev.jvmm.devices.virtio.net;

import dev.jvmm.devices.virtio.MmioTransport;
import dev.jvmm.devices.virtio.TestBench;
import dev.jvmm.devices.virtio.VirtqueueDriver;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The rx reader thread against a backend that throws: the device goes NEEDS_RESET, the thread lives, rx comes back. */
class NetRxFailureTest {
    static final byte[] MAC = {0x06, 0, 0x4a, 0x56, 0x4d, 2};

    /** A backend source fed by the test; an entry that is a Throwable is thrown instead of read. */
    static final class ScriptedSource implements FrameReader.Source {
        private static final Object WAKE = new Object();
        final BlockingQueue<Object> script = new LinkedBlockingQueue<>();

        @Override
        public long read(ByteBuffer into) {
            Object next;
            try {
                next = script.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 0;
            }
            if (next == WAKE) {
                return 0;
            }
            if (next instanceof Error e) {
                throw e;
            }
            if (next instanceof RuntimeException e) {
                throw e;
            }
            byte[] frame = (byte[]) next;
            into.put(0, frame);
            return frame.length;
        }

        @Override
        public void wake() {
            script.add(WAKE);
        }
    }

    static void await(BooleanSupplier done, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(2);
        }
    }

    static byte[] frame(int seed) {
        byte[] f = new byte[NetDevice.HEADER_SIZE + 60];
        f[NetDevice.HEADER_SIZE] = (byte) seed;
        return f;
    }

    static boolean needsReset(TestBench b) {
        return (b.transport.status() & MmioTransport.STATUS_NEEDS_RESET) != 0;
    }

    /** The driver resets the device and sets it up again on fresh rings, as Linux's virtio_net does on NEEDS_RESET. */
    private static VirtqueueDriver resetAndRestart(TestBench b, long ringBase) {
        VirtqueueDriver.reg(b.transport, 0x070, 0);
        b.queues.set(0, new VirtqueueDriver(b.memory, ringBase, 256, 0x300000, 0x80000));
        b.start();
        return b.queue(0);
    }

    @Test
    void anErrorFromTheBackendResetsTheDeviceNotTheThread() throws Exception {
        checkRecovery(new Error("injected: backend broke"));
    }

    @Test
    void aRuntimeExceptionFromTheBackendResetsTheDeviceNotTheThread() throws Exception {
        checkRecovery(new IllegalStateException("injected: bad ring state"));
    }

    private void checkRecovery(Throwable injected) throws Exception {
        NetDevice net = new NetDevice("net0", MAC, new NetDeviceTest.FakeBackend(false));
        TestBench b = new TestBench(net).start();
        ScriptedSource source = new ScriptedSource();
        FrameReader reader = new FrameReader(source, net);
        reader.start("test-reader");
        try {
            VirtqueueDriver rx = b.queue(0);
            VirtqueueDriver.Buf buf = rx.writable(2048);
            rx.add(buf);
            b.kick(0);
            source.script.add(frame(1));
            await(() -> rx.usedIndex() == 1, "the first frame arrives");

            source.script.add(injected);
            // The transport sets the status bit, then logs: wait for both.
            await(() -> needsReset(b) && !b.log.isEmpty(), "the device asks for a reset");
            assertTrue(reader.isAlive(), "the reader thread survives");
            assertEquals(1, net.metrics().get("rx_errors"));
            assertTrue(b.log.stream().anyMatch(l -> l.contains("needs reset") && l.contains("injected")), String.valueOf(b.log));

            VirtqueueDriver fresh = resetAndRestart(b, 0x200000);
            VirtqueueDriver.Buf again = fresh.writable(2048);
            fresh.add(again);
            b.kick(0);
            source.script.add(frame(7));
            await(() -> fresh.usedIndex() == 1, "rx works after the reset");
            assertEquals(7, fresh.contents(again)[NetDevice.HEADER_SIZE]);
            assertTrue(reader.isAlive());
            assertEquals(0, b.transport.status() & MmioTransport.STATUS_NEEDS_RESET);
        } finally {
            reader.stop();
        }
    }

    @Test
    void aReaderWaitingForBuffersIsWokenByTheRefillNotify() throws Exception {
        NetDevice net = new NetDevice("net0", MAC, new NetDeviceTest.FakeBackend(false));
        TestBench b = new TestBench(net).start();
        ScriptedSource source = new ScriptedSource();
        FrameReader reader = new FrameReader(source, net);
        reader.start("test-reader");
        try {
            source.script.add(frame(3)); // no rx buffer yet: the reader holds it
            await(source.script::isEmpty, "the reader took the frame");
            VirtqueueDriver rx = b.queue(0);
            rx.add(rx.writable(2048));
            b.kick(0);
            await(() -> rx.usedIndex() == 1, "the held frame is delivered after the refill");
            assertEquals(0, net.metrics().get("rx_dropped"));
        } finally {
            assertTrue(reader.stop(), "stop() ends the reader");
        }
    }
}
