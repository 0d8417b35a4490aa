package dev.jvmm.devices.virtio.net;

import dev.jvmm.devices.virtio.MmioTransport;
import dev.jvmm.devices.virtio.TestBench;
import dev.jvmm.devices.virtio.VirtioFeatures;
import dev.jvmm.devices.virtio.VirtqueueDriver;
import dev.jvmm.vmm.sys.Tap;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NetDeviceTest {
    static final byte[] MAC = {0x06, 0, 0x4a, 0x56, 0x4d, 1};

    /** An in-memory backend: records what the guest sent and the offloads it was told. */
    static final class FakeBackend implements NetBackend {
        final boolean offload;
        final List<byte[]> sent = new ArrayList<>();
        int guestOffloads = -1;
        boolean closed;

        FakeBackend(boolean offload) {
            this.offload = offload;
        }

        @Override
        public boolean offloadCapable() {
            return offload;
        }

        @Override
        public void setGuestOffloads(int tunFlags) {
            guestOffloads = tunFlags;
        }

        @Override
        public void send(ByteBuffer frame) {
            byte[] b = new byte[frame.remaining()];
            frame.get(b);
            sent.add(b);
        }

        @Override
        public void start(NetDevice device) {}

        @Override
        public void close() {
            closed = true;
        }
    }

    private static byte[] frame(int payload, int seed) {
        byte[] f = new byte[NetDevice.HEADER_SIZE + payload];
        new java.util.Random(seed).nextBytes(f);
        Arrays.fill(f, 0, NetDevice.HEADER_SIZE, (byte) 0);
        return f;
    }

    @Test
    void macAndLinkStatusInConfigSpace() {
        NetDevice net = new NetDevice("net0", MAC, new FakeBackend(false));
        TestBench b = new TestBench(net).start();
        byte[] cfg = new byte[8];
        for (int i = 0; i < 8; i++) {
            byte[] one = new byte[1];
            b.transport.read(0x100 + i, one);
            cfg[i] = one[0];
        }
        assertArrayEquals(MAC, Arrays.copyOf(cfg, 6));
        assertEquals(NetDevice.S_LINK_UP, cfg[6]);
        net.setLinkUp(false);
        byte[] status = new byte[1];
        b.transport.read(0x106, status);
        assertEquals(0, status[0]);
        assertEquals(MmioTransport.INT_CONFIG, b.transport.interruptStatus());
    }

    @Test
    void offloadsOfferedOnlyWhenTheBackendTakesThemAndPassedOn() {
        FakeBackend plain = new FakeBackend(false);
        TestBench b1 = new TestBench(new NetDevice("net0", MAC, plain)).start();
        assertFalse(VirtioFeatures.has(b1.negotiated, NetDevice.F_GUEST_TSO4));
        assertEquals(0, plain.guestOffloads);
        FakeBackend capable = new FakeBackend(true);
        TestBench b2 = new TestBench(new NetDevice("net1", MAC, capable)).start();
        assertTrue(VirtioFeatures.has(b2.negotiated, NetDevice.F_HOST_TSO4));
        assertEquals(Tap.TUN_F_CSUM | Tap.TUN_F_TSO4 | Tap.TUN_F_TSO6 | Tap.TUN_F_TSO_ECN, capable.guestOffloads);
        // A guest that takes checksum offload but not TSO gets only TUN_F_CSUM.
        FakeBackend partial = new FakeBackend(true);
        new TestBench(new NetDevice("net2", MAC, partial)).start(VirtioFeatures.bit(VirtioFeatures.VERSION_1)
                | VirtioFeatures.bit(NetDevice.F_GUEST_CSUM));
        assertEquals(Tap.TUN_F_CSUM, partial.guestOffloads);
    }

    @Test
    void guestFramesReachTheBackendWithTheirHeader() {
        FakeBackend be = new FakeBackend(true);
        TestBench b = new TestBench(new NetDevice("net0", MAC, be)).start();
        VirtqueueDriver tx = b.queue(1);
        byte[] f = frame(1500, 1);
        tx.add(tx.readable(Arrays.copyOf(f, NetDevice.HEADER_SIZE)), tx.readable(Arrays.copyOfRange(f, NetDevice.HEADER_SIZE, f.length)));
        b.kick(1);
        assertEquals(1, be.sent.size());
        assertArrayEquals(f, be.sent.get(0));
        assertEquals(0, tx.nextUsed().len());
        // A chain shorter than a header is an error, not a frame.
        tx.add(tx.readable(new byte[4]));
        b.kick(1);
        assertEquals(1, be.sent.size());
    }

    @Test
    void hostFramesFillRxBuffersOrWait() {
        NetDevice net = new NetDevice("net0", MAC, new FakeBackend(false));
        TestBench b = new TestBench(net).start();
        VirtqueueDriver rx = b.queue(0);
        byte[] f = frame(60, 2);
        assertFalse(net.receive(ByteBuffer.wrap(f.clone())), "no rx buffer yet: the caller keeps the frame");
        VirtqueueDriver.Buf buf = rx.writable(2048);
        rx.add(buf);
        b.kick(0);
        assertTrue(net.receive(ByteBuffer.wrap(f.clone())));
        VirtqueueDriver.Used u = rx.nextUsed();
        assertEquals(f.length, u.len());
        byte[] got = Arrays.copyOf(rx.contents(buf), f.length);
        assertEquals(1, got[10], "num_buffers = 1");
        assertArrayEquals(Arrays.copyOfRange(f, 12, f.length), Arrays.copyOfRange(got, 12, f.length));
        // A frame bigger than the buffer is dropped, and the buffer returned empty.
        rx.add(rx.writable(100));
        assertTrue(net.receive(ByteBuffer.wrap(frame(500, 3))));
        assertEquals(0, rx.nextUsed().len());
        assertEquals(1, net.metrics().get("rx_dropped"));
    }

    @Test
    void rxWithNoBufferPublishesAvailEventSoTheRefillNotifies() {
        NetDevice net = new NetDevice("net0", MAC, new FakeBackend(false));
        TestBench b = new TestBench(net).start();
        assertTrue(VirtioFeatures.has(b.negotiated, VirtioFeatures.RING_EVENT_IDX));
        VirtqueueDriver rx = b.queue(0);
        rx.add(rx.writable(2048));
        rx.add(rx.writable(2048));
        b.kick(0);
        assertTrue(net.receive(ByteBuffer.wrap(frame(60, 4))));
        assertTrue(net.receive(ByteBuffer.wrap(frame(60, 5))));
        // The ring ran dry: the device must ask to be notified once the driver passes index 2.
        assertFalse(net.receive(ByteBuffer.wrap(frame(60, 6))));
        assertEquals(2, rx.availEvent());
        int old = rx.availIndex();
        rx.add(rx.writable(2048));
        assertTrue(rx.needsKick(old), "Linux notifies this refill (vring_need_event)");
        // A driver that refills within what it already announced is not asked to notify again.
        assertFalse(rx.needsKick(rx.availIndex()));
    }
}
