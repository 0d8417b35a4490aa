package dev.jvmm.devices.virtio.vsock;

import dev.jvmm.devices.virtio.TestBench;
import dev.jvmm.devices.virtio.VirtqueueDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The device between a simulated guest (driver-side queues) and real Unix sockets on the host. */
class VsockDeviceTest {
    static final long CID = VsockGuest.CID;
    @TempDir
    Path dir;
    VsockDevice device;
    TestBench bench;
    VirtqueueDriver rx;
    VirtqueueDriver tx;
    VsockGuest g;

    @BeforeEach
    void start() throws IOException {
        device = VsockDevice.open(CID, dir.resolve("v.sock"));
        g = new VsockGuest(device);
        bench = g.bench;
        rx = g.rx;
        tx = g.tx;
        g.postRx(16, 4096);
    }

    @AfterEach
    void stop() {
        device.close();
    }

    private VsockGuest.Packet nextRx() throws InterruptedException {
        return g.nextRx();
    }

    private void sendTx(int srcPort, int dstPort, int op, int flags, int bufAlloc, int fwdCnt, byte[] payload) {
        g.sendTx(srcPort, dstPort, op, flags, bufAlloc, fwdCnt, payload);
    }

    private static String readLine(SocketChannel ch) throws IOException {
        return VsockGuest.readLine(ch);
    }

    private static byte[] readN(SocketChannel ch, int n) throws IOException {
        return VsockGuest.readN(ch, n);
    }

    @Test
    void hostConnectsWithConnectAndTalks() throws Exception {
        try (SocketChannel host = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("v.sock")))) {
            host.write(ByteBuffer.wrap("CONNECT 1234\n".getBytes(StandardCharsets.US_ASCII)));
            VsockGuest.Packet req = nextRx();
            assertEquals(VsockPacket.OP_REQUEST, req.header().op());
            assertEquals(2, req.header().srcCid());
            assertEquals(CID, req.header().dstCid());
            assertEquals(1234, req.header().dstPort());
            int hostPort = req.header().srcPort();
            assertTrue(hostPort >= VsockDevice.FIRST_HOST_PORT);
            sendTx(1234, hostPort, VsockPacket.OP_RESPONSE, 0, 65536, 0, new byte[0]);
            assertEquals("OK " + hostPort, readLine(host));

            host.write(ByteBuffer.wrap("hello".getBytes(StandardCharsets.US_ASCII)));
            VsockGuest.Packet rw = nextRx();
            assertEquals(VsockPacket.OP_RW, rw.header().op());
            assertEquals("hello", new String(rw.payload(), StandardCharsets.US_ASCII));

            sendTx(1234, hostPort, VsockPacket.OP_RW, 0, 65536, 5, "world".getBytes(StandardCharsets.US_ASCII));
            assertEquals("world", new String(readN(host, 5), StandardCharsets.US_ASCII));
            assertEquals(1, device.connections());
        }
        // EOF on the Unix socket may be a half close: the guest hears "no more data" and reads EOF.
        VsockGuest.Packet shut = nextRx();
        assertEquals(VsockPacket.OP_SHUTDOWN, shut.header().op());
        assertEquals(VsockPacket.SHUTDOWN_SEND, shut.header().flags());
        // The guest closes in turn; jvmm completes the close with RST.
        sendTx(1234, shut.header().srcPort(), VsockPacket.OP_SHUTDOWN, 3, 65536, 5, new byte[0]);
        assertEquals(VsockPacket.OP_RST, nextRx().header().op());
        assertEquals(0, device.connections());
        assertEquals(1, device.metrics().get("host_connections"));
    }

    @Test
    void hostHalfCloseStillLetsTheGuestAnswer() throws Exception {
        try (SocketChannel host = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("v.sock")))) {
            host.write(ByteBuffer.wrap("CONNECT 7\n".getBytes(StandardCharsets.US_ASCII)));
            VsockGuest.Packet req = nextRx();
            int hostPort = req.header().srcPort();
            sendTx(7, hostPort, VsockPacket.OP_RESPONSE, 0, 1 << 20, 0, new byte[0]);
            assertEquals("OK " + hostPort, readLine(host));
            byte[] data = new byte[600_000]; // more than jvmm buffers before it pauses reading
            new java.util.Random(5).nextBytes(data);
            Thread writer = new Thread(() -> {
                try {
                    host.write(ByteBuffer.wrap(data));
                    host.shutdownOutput();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            writer.start();
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            int fwd = 0;
            VsockGuest.Packet p;
            while ((p = nextRx()).header().op() == VsockPacket.OP_RW) {
                got.write(p.payload());
                fwd += p.payload().length;
                sendTx(7, hostPort, VsockPacket.OP_CREDIT_UPDATE, 0, 1 << 20, fwd, new byte[0]);
            }
            writer.join();
            assertArrayEquals(data, got.toByteArray());
            assertEquals(VsockPacket.OP_SHUTDOWN, p.header().op());
            assertEquals(VsockPacket.SHUTDOWN_SEND, p.header().flags(), "only: the host sends no more");
            // The guest still answers after the host's half close, then shuts down its sending side.
            sendTx(7, hostPort, VsockPacket.OP_RW, 0, 1 << 20, fwd, "late reply".getBytes(StandardCharsets.US_ASCII));
            sendTx(7, hostPort, VsockPacket.OP_SHUTDOWN, VsockPacket.SHUTDOWN_SEND, 1 << 20, fwd, new byte[0]);
            assertEquals("late reply", new String(readN(host, 100), StandardCharsets.US_ASCII));
            assertEquals(null, readLine(host), "EOF after the guest's SHUTDOWN(SEND)");
        }
        assertEquals(VsockPacket.OP_RST, nextRx().header().op(), "both sides done sending: RST ends it");
        assertEquals(0, device.connections());
    }

    @Test
    void guestRefusalClosesTheHostSocket() throws Exception {
        try (SocketChannel host = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("v.sock")))) {
            host.write(ByteBuffer.wrap("CONNECT 99\n".getBytes(StandardCharsets.US_ASCII)));
            VsockGuest.Packet req = nextRx();
            sendTx(99, req.header().srcPort(), VsockPacket.OP_RST, 0, 0, 0, new byte[0]);
            assertEquals(null, readLine(host), "closed without OK");
        }
    }

    @Test
    void badConnectLineIsClosed() throws Exception {
        try (SocketChannel host = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("v.sock")))) {
            host.write(ByteBuffer.wrap("HELLO there\n".getBytes(StandardCharsets.US_ASCII)));
            assertEquals(null, readLine(host));
        }
        assertEquals(1, device.metrics().get("refused"));
    }

    @Test
    void guestConnectionToAPortWithoutListenerGetsRst() throws Exception {
        sendTx(5000, 77, VsockPacket.OP_REQUEST, 0, 65536, 0, new byte[0]);
        VsockGuest.Packet p = nextRx();
        assertEquals(VsockPacket.OP_RST, p.header().op());
        assertEquals(77, p.header().srcPort());
        assertEquals(5000, p.header().dstPort());
        // Data for a connection that does not exist: RST too.
        sendTx(5001, 78, VsockPacket.OP_RW, 0, 65536, 0, new byte[] {1, 2});
        assertEquals(VsockPacket.OP_RST, nextRx().header().op());
    }

    @Test
    void guestConnectsToUdsUnderscorePort() throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(dir.resolve("v.sock_52")));
            sendTx(6000, 52, VsockPacket.OP_REQUEST, 0, 65536, 0, new byte[0]);
            try (SocketChannel peer = listener.accept()) {
                VsockGuest.Packet resp = nextRx();
                assertEquals(VsockPacket.OP_RESPONSE, resp.header().op());
                assertEquals(VsockDevice.BUF_ALLOC, resp.header().bufAlloc());
                sendTx(6000, 52, VsockPacket.OP_RW, 0, 65536, 0, "ping".getBytes(StandardCharsets.US_ASCII));
                assertEquals("ping", new String(readN(peer, 4), StandardCharsets.US_ASCII));
                peer.write(ByteBuffer.wrap("pong".getBytes(StandardCharsets.US_ASCII)));
                assertEquals("pong", new String(nextRx().payload(), StandardCharsets.US_ASCII));
                sendTx(6000, 52, VsockPacket.OP_SHUTDOWN, 3, 65536, 4, new byte[0]);
                assertEquals(VsockPacket.OP_RST, nextRx().header().op(), "the guest's close is completed with RST");
                assertEquals(0, readN(peer, 1).length, "host side sees EOF");
            }
        }
        assertEquals(1, device.metrics().get("guest_connections"));
    }

    @Test
    void hostToGuestRespectsTheGuestsCredit() throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(dir.resolve("v.sock_53")));
            sendTx(6001, 53, VsockPacket.OP_REQUEST, 0, 100, 0, new byte[0]); // the guest has room for 100 bytes
            try (SocketChannel peer = listener.accept()) {
                assertEquals(VsockPacket.OP_RESPONSE, nextRx().header().op());
                byte[] data = new byte[250];
                new java.util.Random(4).nextBytes(data);
                peer.write(ByteBuffer.wrap(data));
                java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
                VsockGuest.Packet p = nextRx();
                while (p.header().op() == VsockPacket.OP_RW) {
                    got.write(p.payload());
                    if (got.size() == 100) {
                        break;
                    }
                    p = nextRx();
                }
                assertEquals(100, got.size(), "no more than the credit");
                VsockGuest.Packet ask = nextRx();
                assertEquals(VsockPacket.OP_CREDIT_REQUEST, ask.header().op());
                sendTx(6001, 53, VsockPacket.OP_CREDIT_UPDATE, 0, 100, 100, new byte[0]);
                while (got.size() < 200) {
                    got.write(nextRx().payload());
                }
                assertEquals(200, got.size());
                sendTx(6001, 53, VsockPacket.OP_CREDIT_UPDATE, 0, 100, 200, new byte[0]);
                while (got.size() < 250) {
                    got.write(nextRx().payload());
                }
                assertArrayEquals(data, got.toByteArray());
            }
        }
    }

    @Test
    void malformedPacketsAreDroppedAndCounted() {
        VsockPacket lying = new VsockPacket(CID, 2, 1, 2, 5000, VsockPacket.TYPE_STREAM, VsockPacket.OP_RW, 0, 0, 0);
        tx.add(tx.readable(lying.encode()), tx.readable(new byte[10])); // says 5000 bytes, carries 10
        VsockPacket spoofed = new VsockPacket(9, 2, 1, 2, 0, VsockPacket.TYPE_STREAM, VsockPacket.OP_REQUEST, 0, 0, 0);
        tx.add(tx.readable(spoofed.encode()));
        tx.add(tx.readable(new byte[10])); // shorter than a header
        bench.kick(1);
        assertEquals(3, device.metrics().get("errors"));
        assertEquals(0, device.connections());
        assertEquals(3, tx.usedIndex(), "every chain went back to the guest");
    }
}
