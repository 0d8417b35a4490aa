package dev.jvmm.devices.virtio.vsock;

import dev.jvmm.devices.virtio.VirtqueueDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Host data for a guest with no rx buffer: the Netty thread leaves it pending (nothing waits or
 * polls), the device has published avail_event at the avail index, and the guest's refill notify
 * alone moves it, through the notify path's own pump.
 */
class VsockRxNotifyTest {
    @TempDir
    Path dir;
    VsockDevice device;
    VsockGuest g;

    @BeforeEach
    void start() throws IOException {
        device = VsockDevice.open(VsockGuest.CID, dir.resolve("v.sock"));
        g = new VsockGuest(device);
    }

    @AfterEach
    void stop() {
        device.close();
    }

    private static void await(BooleanSupplier done, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(2);
        }
    }

    @Test
    void pendingHostDataWaitsForTheRefillNotifyThatAvailEventAsksFor() throws Exception {
        g.postRx(1, 4096); // room for the REQUEST only
        try (SocketChannel host = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("v.sock")))) {
            host.write(ByteBuffer.wrap("CONNECT 1234\n".getBytes(StandardCharsets.US_ASCII)));
            VsockGuest.Packet req = null;
            for (long end = System.nanoTime() + 10_000_000_000L; req == null && System.nanoTime() < end; Thread.sleep(2)) {
                req = g.pollRx();
            }
            assertTrue(req != null && req.header().op() == VsockPacket.OP_REQUEST, String.valueOf(req));
            int hostPort = req.header().srcPort();
            g.sendTx(1234, hostPort, VsockPacket.OP_RESPONSE, 0, 65536, 0, new byte[0]);
            assertEquals("OK " + hostPort, VsockGuest.readLine(host));

            host.write(ByteBuffer.wrap("hello".getBytes(StandardCharsets.US_ASCII)));
            VirtqueueDriver rx = g.rx;
            await(() -> {
                synchronized (device) {
                    VsockConnection c = device.connection(hostPort, 1234);
                    return c != null && c.pendingBytes == 5;
                }
            }, "the host's bytes wait in the device for an rx buffer");
            assertEquals(rx.availIndex(), rx.availEvent(), "the device asked to be notified at the avail index");
            assertEquals(null, g.pollRx(), "nothing was delivered without a buffer");

            int old = rx.availIndex();
            rx.add(rx.writable(VsockPacket.HEADER_SIZE), rx.writable(4096));
            assertTrue(rx.needsKick(old), "the refill notifies");
            g.bench.kick(0);
            // The notify is served synchronously here (no ioeventfd): the data is in the ring now.
            VsockGuest.Packet data = g.pollRx();
            assertTrue(data != null && data.header().op() == VsockPacket.OP_RW, String.valueOf(data));
            assertEquals("hello", new String(data.payload(), StandardCharsets.US_ASCII));
        }
    }
}
