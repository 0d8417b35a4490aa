package dev.jvmm.devices.virtio.vsock;

import dev.jvmm.devices.virtio.MmioTransport;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A hostile guest or host against vsock's limits: reply floods, connection floods, duplicates, resets. */
class VsockCapsTest {
    @TempDir
    Path dir;
    VsockDevice device;
    VsockGuest g;
    final List<SocketChannel> hostSockets = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        device = VsockDevice.open(VsockGuest.CID, dir.resolve("v.sock"));
        g = new VsockGuest(device);
    }

    @AfterEach
    void stop() throws IOException {
        device.close();
        for (SocketChannel s : hostSockets) {
            s.close();
        }
    }

    private static void await(BooleanSupplier done, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(5);
        }
    }

    /** {@link #await} without sleeping, for conditions a loop checks thousands of times. */
    private static void spinUntil(BooleanSupplier done, String what) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.onSpinWait();
        }
    }

    @Test
    void aMillionPacketReplyFloodHoldsTxInsteadOfGrowingHostMemory() {
        // Every one of these needs a RST back: a credit request for a connection that does not exist.
        VirtqueueDriver.Buf unknown = g.tx.readable(VsockGuest.header(5000, 77, VsockPacket.OP_CREDIT_REQUEST, 0, 0, 0, 0).encode());
        int total = 1_000_000;
        long sent = 0;
        long txDone = 0;
        // The guest posts no rx buffers and floods tx as fast as the device takes chains.
        while (true) {
            while (sent - txDone < g.tx.size() && sent < total) {
                g.tx.add(unknown);
                sent++;
            }
            g.bench.kick(1);
            long before = txDone;
            while (g.tx.nextUsed() != null) {
                txDone++;
            }
            assertTrue(device.pendingReplies() <= VsockDevice.MAX_PENDING_REPLIES, device.pendingReplies() + " replies queued");
            if (txDone == before) {
                break; // the device stopped taking tx
            }
        }
        assertEquals(VsockDevice.MAX_PENDING_REPLIES, device.pendingReplies());
        assertEquals(VsockDevice.MAX_PENDING_REPLIES, txDone, "one reply per chain taken, and no more taken");
        assertEquals(g.tx.size(), sent - txDone, "the rest wait in the guest's own ring");
        assertTrue(device.metrics().get("tx_held") > 0);

        // Rx buffers come: the replies go out, held tx resumes without a new tx notify, and the
        // whole flood is answered, one RST each, with the queue bounded all the way.
        VirtqueueDriver.Buf rxBuf = g.rx.writable(VsockPacket.HEADER_SIZE);
        long rxPosted = 0;
        long rxDone = 0;
        while (rxDone < total) {
            while (rxPosted - rxDone < g.rx.size()) {
                g.rx.add(rxBuf);
                rxPosted++;
            }
            g.bench.kick(0);
            while (g.rx.nextUsed() != null) {
                rxDone++;
            }
            while (g.tx.nextUsed() != null) {
                txDone++;
            }
            while (sent - txDone < g.tx.size() && sent < total) {
                g.tx.add(unknown);
                sent++;
            }
            g.bench.kick(1);
            while (g.tx.nextUsed() != null) {
                txDone++;
            }
            assertTrue(device.pendingReplies() <= VsockDevice.MAX_PENDING_REPLIES, device.pendingReplies() + " replies queued");
        }
        assertEquals(total, txDone);
        assertEquals(total, device.metrics().get("rst_sent"), "no reply was lost");
        assertEquals(VsockPacket.OP_RST, VsockPacket.decode(g.rx.contents(rxBuf)).op());
        assertEquals(0, device.pendingReplies());
    }

    /** Drains rx into {@code ops} (counts per op), refilling it. */
    private void pump(Map<Integer, Integer> ops) {
        VsockGuest.Packet p;
        while ((p = g.pollRx()) != null) {
            ops.merge(p.header().op(), 1, Integer::sum);
        }
        g.postRx(g.rx.size(), 64);
    }

    private static int count(Map<Integer, Integer> ops, int op) {
        synchronized (ops) {
            return ops.getOrDefault(op, 0);
        }
    }

    @Test
    void guestConnectionFloodIsCappedWithRstAndCountedThenRecovers() throws Exception {
        int extra = 100;
        List<SocketChannel> accepted = new ArrayList<>();
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(dir.resolve("v.sock_60")), 4096);
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        SocketChannel s = listener.accept();
                        synchronized (accepted) {
                            accepted.add(s);
                        }
                    }
                } catch (IOException closed) {
                    // the test is over
                }
            });
            acceptor.start();
            Map<Integer, Integer> ops = new HashMap<>();
            g.postRx(g.rx.size(), 64);
            for (int i = 0; i < VsockDevice.MAX_CONNECTIONS + extra; i++) {
                g.sendTx(10000 + i, 60, VsockPacket.OP_REQUEST, 0, 65536, 0, new byte[0]);
                pump(ops);
            }
            await(() -> {
                pump(ops);
                return count(ops, VsockPacket.OP_RESPONSE) + count(ops, VsockPacket.OP_RST) == VsockDevice.MAX_CONNECTIONS + extra;
            }, "every REQUEST is answered");
            assertEquals(VsockDevice.MAX_CONNECTIONS, count(ops, VsockPacket.OP_RESPONSE));
            assertEquals(extra, count(ops, VsockPacket.OP_RST));
            assertEquals(extra, device.metrics().get("rejected_connections"));
            assertEquals(VsockDevice.MAX_CONNECTIONS, device.connections());
            await(() -> accepted.size() == VsockDevice.MAX_CONNECTIONS, "the host saw every accepted connection");

            // The guest closes ten; ten new ones then get through, and the cap still holds.
            for (int i = 0; i < 10; i++) {
                g.sendTx(10000 + i, 60, VsockPacket.OP_RST, 0, 0, 0, new byte[0]);
            }
            assertEquals(VsockDevice.MAX_CONNECTIONS - 10, device.connections());
            for (int i = 0; i < 11; i++) {
                g.sendTx(20000 + i, 60, VsockPacket.OP_REQUEST, 0, 65536, 0, new byte[0]);
                pump(ops);
            }
            await(() -> {
                pump(ops);
                return count(ops, VsockPacket.OP_RESPONSE) == VsockDevice.MAX_CONNECTIONS + 10;
            }, "ten new connections are accepted");
            await(() -> {
                pump(ops);
                return count(ops, VsockPacket.OP_RST) == extra + 1;
            }, "the eleventh is refused");
            assertEquals(extra + 1, device.metrics().get("rejected_connections"));
            assertEquals(VsockDevice.MAX_CONNECTIONS, device.connections());
            listener.close();
            acceptor.join();
        } finally {
            for (SocketChannel s : accepted) {
                s.close();
            }
        }
    }

    private SocketChannel hostConnect(int port) throws IOException {
        SocketChannel s = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("v.sock")));
        hostSockets.add(s);
        s.write(ByteBuffer.wrap(("CONNECT " + port + "\n").getBytes(StandardCharsets.US_ASCII)));
        return s;
    }

    @Test
    void hostConnectFloodCountsAgainstTheSameCap() throws Exception {
        int extra = 20;
        for (int i = 0; i < VsockDevice.MAX_CONNECTIONS + extra; i++) {
            hostConnect(5);
        }
        // Sockets are refused at accept or at their CONNECT line, whichever finds the table full.
        await(() -> device.connections() == VsockDevice.MAX_CONNECTIONS, "the table fills");
        await(() -> device.metrics().get("rejected_connections") == extra, "the sockets over the cap are refused");
        assertEquals(VsockDevice.MAX_CONNECTIONS, device.connections());
        assertTrue(device.pendingReplies() <= VsockDevice.MAX_CONNECTIONS, "one REQUEST per connection at most");
        // Host peers that give up free their places.
        for (int i = 0; i < 10; i++) {
            hostSockets.get(i).close();
        }
        await(() -> device.connections() == VsockDevice.MAX_CONNECTIONS - 10, "closed host sockets leave the table");
        for (int i = 0; i < 10; i++) {
            hostConnect(6);
        }
        await(() -> device.connections() == VsockDevice.MAX_CONNECTIONS, "new host connections fit again");
        assertEquals(extra, device.metrics().get("rejected_connections"));
    }

    @Test
    void hostSocketChurnWhileTheGuestPostsNoRxBuffersQueuesNothingForGone() throws Exception {
        // One host socket stays, its REQUEST first in the queue; behind it 7000 (past PURGE_AT)
        // each CONNECT and close before the guest, posting no rx buffers, hears of them.
        SocketChannel stays = hostConnect(4);
        spinUntil(() -> device.connections() == 1, "the first CONNECT is taken");
        for (int i = 0; i < 7000; i++) {
            try (SocketChannel s = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("v.sock")))) {
                s.write(ByteBuffer.wrap("CONNECT 5\n".getBytes(StandardCharsets.US_ASCII)));
                spinUntil(() -> device.connections() == 2, "the CONNECT is taken");
            }
            spinUntil(() -> device.connections() == 1, "the closed socket leaves the table");
        }
        assertTrue(device.pendingReplies() <= VsockConnections.PURGE_AT, device.pendingReplies() + " replies queued");
        assertEquals(0, device.metrics().get("rst_sent"), "no RST for pairs the guest never heard of");
        g.postRx(16, 4096);
        VsockGuest.Packet p = g.pollRx();
        assertEquals(VsockPacket.OP_REQUEST, p.header().op(), "the one that stays");
        assertEquals(4, p.header().dstPort());
        assertNull(g.pollRx(), "nothing for the guest about connections that are gone");
        stays.close();
    }

    @Test
    void duplicateRequestResetsThePairAndLeaksNoSecondFd() throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(dir.resolve("v.sock_61")));
            g.postRx(16, 4096);
            g.sendTx(7000, 61, VsockPacket.OP_REQUEST, 0, 65536, 0, new byte[0]);
            try (SocketChannel peer = listener.accept()) {
                assertEquals(VsockPacket.OP_RESPONSE, g.nextRx().header().op());
                g.sendTx(7000, 61, VsockPacket.OP_REQUEST, 0, 65536, 0, new byte[0]);
                assertEquals(VsockPacket.OP_RST, g.nextRx().header().op());
                assertEquals(0, device.connections());
                assertEquals(-1, peer.read(ByteBuffer.allocate(1)), "the old connection's host fd is closed");
                listener.configureBlocking(false);
                assertNull(listener.accept(), "no second connection was made");
            }
            // The pair is free again: the guest's retry connects.
            listener.configureBlocking(true);
            g.sendTx(7000, 61, VsockPacket.OP_REQUEST, 0, 65536, 0, new byte[0]);
            try (SocketChannel peer = listener.accept()) {
                assertEquals(VsockPacket.OP_RESPONSE, g.nextRx().header().op());
                assertEquals(1, device.connections());
            }
        }
    }

    @Test
    void deviceResetWithConnectionsOpenReleasesHostFds() throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(dir.resolve("v.sock_62")));
            g.postRx(16, 4096);
            g.sendTx(7001, 62, VsockPacket.OP_REQUEST, 0, 65536, 0, new byte[0]);
            SocketChannel guestPeer = listener.accept();
            hostSockets.add(guestPeer);
            assertEquals(VsockPacket.OP_RESPONSE, g.nextRx().header().op());
            SocketChannel hostPeer = hostConnect(9);
            VsockPacket req = g.nextRx().header();
            assertEquals(VsockPacket.OP_REQUEST, req.op());
            g.sendTx(9, req.srcPort(), VsockPacket.OP_RESPONSE, 0, 65536, 0, new byte[0]);
            await(() -> device.connections() == 2, "both connections are up");
            VirtqueueDriver.reg(g.bench.transport, 0x070, 0); // status 0: device reset
            assertEquals(0, device.connections());
            assertEquals(-1, guestPeer.read(ByteBuffer.allocate(1)), "guest-initiated connection closed");
            ByteBuffer rest = ByteBuffer.allocate(64);
            while (hostPeer.read(rest) >= 0) {
                rest.clear(); // "OK <port>" may come first
            }
            assertEquals(0, MmioTransport.STATUS_NEEDS_RESET & g.bench.transport.status());
        }
    }

    @Test
    void rxWithNoBufferPublishesAvailEventSoTheRefillNotifies() throws Exception {
        // Three buffers, used by three replies: the device has seen avail index 3.
        g.postRx(3, 64);
        for (int i = 0; i < 3; i++) {
            g.sendTx(100 + i, 9999, VsockPacket.OP_REQUEST, 0, 0, 0, new byte[0]); // no listener: RST
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(VsockPacket.OP_RST, g.pollRx().header().op());
        }
        // A fourth reply finds the ring empty: avail_event must say "notify me after index 3".
        g.sendTx(103, 9999, VsockPacket.OP_REQUEST, 0, 0, 0, new byte[0]);
        assertNull(g.pollRx());
        assertEquals(3, g.rx.availEvent());
        int old = g.rx.availIndex();
        g.rx.add(g.rx.writable(VsockPacket.HEADER_SIZE), g.rx.writable(64));
        assertTrue(g.rx.needsKick(old), "Linux notifies this refill (vring_need_event)");
        g.bench.kick(0);
        assertEquals(VsockPacket.OP_RST, g.pollRx().header().op());
    }
}
