package dev.jvmm.devices.virtio.vsock;

import dev.jvmm.devices.virtio.MmioTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Failures and races on the vsock I/O thread: injected errors, counters at 2^32, SHUTDOWN and RST against in-flight writes. */
class VsockFailureTest {
    @TempDir
    Path dir;
    VsockDevice device;
    VsockGuest g;

    @BeforeEach
    void start() throws IOException {
        device = VsockDevice.open(VsockGuest.CID, dir.resolve("v.sock"));
        g = new VsockGuest(device);
        g.postRx(16, 4096);
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

    private SocketChannel hostConnect(int port) throws IOException {
        SocketChannel s = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("v.sock")));
        s.write(ByteBuffer.wrap(("CONNECT " + port + "\n").getBytes(StandardCharsets.US_ASCII)));
        return s;
    }

    /** A host connection the guest accepts; returns its host port. */
    private int establish(SocketChannel host, int guestPort) throws Exception {
        VsockPacket req = g.nextRx().header();
        assertEquals(VsockPacket.OP_REQUEST, req.op());
        g.sendTx(guestPort, req.srcPort(), VsockPacket.OP_RESPONSE, 0, 65536, 0, new byte[0]);
        assertEquals("OK " + req.srcPort(), VsockGuest.readLine(host));
        return req.srcPort();
    }

    @Test
    void anErrorOnTheIoThreadPutsTheDeviceInNeedsResetAndTheThreadLivesOn() throws Exception {
        try (SocketChannel host = hostConnect(40)) {
            establish(host, 40);
            AtomicBoolean armed = new AtomicBoolean(true);
            g.bench.onEdge = () -> {
                if (armed.getAndSet(false)) {
                    throw new Error("injected: interrupt line broke");
                }
            };
            g.rx.setUsedEvent(g.rx.usedIndex()); // the guest wants an interrupt for the next rx packet
            host.write(ByteBuffer.wrap("boom".getBytes(StandardCharsets.US_ASCII))); // read on the Netty thread
            await(() -> (g.bench.transport.status() & MmioTransport.STATUS_NEEDS_RESET) != 0, "the device asks for a reset");
            assertNull(VsockGuest.readLine(host), "its connections are closed, host fds released");
            assertEquals(0, device.connections());
            assertTrue(device.metrics().get("errors") >= 1);
        }
        // The event loop lives on: a host socket is still answered (refused until the reset) ...
        try (SocketChannel host = hostConnect(41)) {
            assertNull(VsockGuest.readLine(host));
        }
        // ... and after the driver's reset, vsock works again.
        g.restart();
        g.postRx(16, 4096);
        try (SocketChannel host = hostConnect(42)) {
            int hostPort = establish(host, 42);
            host.write(ByteBuffer.wrap("again".getBytes(StandardCharsets.US_ASCII)));
            VsockGuest.Packet p = g.nextRx();
            assertEquals(VsockPacket.OP_RW, p.header().op());
            assertEquals(hostPort, p.header().srcPort());
            assertEquals("again", new String(p.payload(), StandardCharsets.US_ASCII));
        }
    }

    @Test
    void creditCountersWrapAt2To32BothWays() throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(dir.resolve("v.sock_63")));
            // buf_alloc 0xffffffff: as large as Linux allows (SO_VM_SOCKETS_BUFFER_MAX_SIZE).
            g.sendTx(8000, 63, VsockPacket.OP_REQUEST, 0, -1, 0, new byte[0]);
            try (SocketChannel peer = listener.accept()) {
                assertEquals(VsockPacket.OP_RESPONSE, g.nextRx().header().op());
                // Every counter just below 2^32, as after 4 GiB each way.
                synchronized (device) {
                    VsockConnection c = device.connection(63, 8000);
                    c.txCnt = -100;
                    c.peerFwdCnt = -100;
                    c.rxCnt = -50;
                    c.fwdCnt = -50;
                    c.lastSentFwdCnt = -50;
                }
                byte[] toGuest = new byte[300];
                new Random(1).nextBytes(toGuest);
                peer.write(ByteBuffer.wrap(toGuest));
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                while (got.size() < toGuest.length) {
                    VsockGuest.Packet p = g.nextRx();
                    assertEquals(VsockPacket.OP_RW, p.header().op(), "credit is there: data, not a credit request");
                    got.write(p.payload());
                }
                assertArrayEquals(toGuest, got.toByteArray());

                byte[] toHost = new byte[300];
                new Random(2).nextBytes(toHost);
                g.sendTx(8000, 63, VsockPacket.OP_RW, 0, -1, 200, toHost); // the guest's fwd_cnt wrapped too
                assertArrayEquals(toHost, VsockGuest.readN(peer, toHost.length));
                await(() -> {
                    synchronized (device) {
                        return device.connection(63, 8000).fwdCnt == 250;
                    }
                }, "fwd_cnt passes 2^32");
                assertEquals(1, device.connections());
                assertEquals(0, device.metrics().get("errors"));
            }
        }
    }

    private SocketChannel guestConnection(ServerSocketChannel listener, int guestPort) throws Exception {
        g.sendTx(guestPort, 64, VsockPacket.OP_REQUEST, 0, 65536, 0, new byte[0]);
        SocketChannel peer = listener.accept();
        VsockPacket p = g.nextRx().header();
        while (p.op() == VsockPacket.OP_CREDIT_UPDATE) {
            p = g.nextRx().header(); // for an earlier connection whose writes completed
        }
        assertEquals(VsockPacket.OP_RESPONSE, p.op());
        assertEquals(guestPort, p.dstPort());
        return peer;
    }

    /** Sends {@code data} in RW packets of at most 50 000 bytes (the host does not read meanwhile). */
    private void sendData(int guestPort, byte[] data) {
        for (int off = 0; off < data.length; off += 50_000) {
            g.sendTx(guestPort, 64, VsockPacket.OP_RW, 0, 65536, 0, Arrays.copyOfRange(data, off, Math.min(data.length, off + 50_000)));
        }
    }

    @Test
    void guestShutdownRacingInFlightWritesDeliversEverythingBeforeTheClose() throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(dir.resolve("v.sock_64")));
            try (SocketChannel peer = guestConnection(listener, 8001)) {
                byte[] data = new byte[VsockDevice.BUF_ALLOC]; // all the credit: more than a socket buffer holds
                new Random(3).nextBytes(data);
                sendData(8001, data);
                g.sendTx(8001, 64, VsockPacket.OP_SHUTDOWN, VsockPacket.SHUTDOWN_RCV | VsockPacket.SHUTDOWN_SEND, 65536, 0,
                        new byte[0]);
                assertArrayEquals(data, VsockGuest.readN(peer, data.length + 1), "every byte, then EOF");
                VsockGuest.Packet p = g.nextRx();
                while (p.header().op() == VsockPacket.OP_CREDIT_UPDATE) {
                    p = g.nextRx();
                }
                assertEquals(VsockPacket.OP_RST, p.header().op(), "the close completes once the data is out");
                assertEquals(0, device.connections());
            }
        }
        assertEquals(0, device.metrics().get("errors"));
    }

    @Test
    void guestRstRacingInFlightWritesDropsThemWithoutHarm() throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(dir.resolve("v.sock_64")));
            try (SocketChannel peer = guestConnection(listener, 8002)) {
                byte[] data = new byte[VsockDevice.BUF_ALLOC];
                sendData(8002, data);
                g.sendTx(8002, 64, VsockPacket.OP_RST, 0, 0, 0, new byte[0]); // abortive: what is unwritten goes
                assertEquals(0, device.connections());
                byte[] got = VsockGuest.readN(peer, data.length + 1);
                assertTrue(got.length <= data.length, "EOF after at most what the guest sent");
            }
            // The writes that failed behind the RST answered nothing and broke nothing.
            assertEquals(0, device.metrics().get("rst_sent"));
            assertEquals(0, device.metrics().get("errors"));
            assertEquals(0, g.bench.transport.status() & MmioTransport.STATUS_NEEDS_RESET);
            try (SocketChannel again = guestConnection(listener, 8003)) {
                assertEquals(1, device.connections());
            }
        }
    }
}
