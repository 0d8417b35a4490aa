package dev.jvmm.devices.virtio.vsock;

import dev.jvmm.devices.virtio.VirtqueueDriver;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
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
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.FutureTask;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Host peers that never read, and host peers that write a byte at a time to a guest that is
 * behind: what waits in jvmm is bounded by credit (or the pause threshold), not by how the bytes
 * were cut up (a byte must not cost a buffer and a queue entry of its own).
 */
class VsockSlowPeerTest {
    static final int PEERS = 1000;
    static final int PACKETS_EACH = 400;

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

    /** Pending write entries and bytes in Netty for {@code ch}, read on its event loop. */
    private static long[] outbound(Channel ch) throws Exception {
        FutureTask<long[]> t = new FutureTask<>((Callable<long[]>) () -> {
            ChannelOutboundBuffer b = ch.unsafe().outboundBuffer();
            return b == null ? new long[2] : new long[] {b.size(), b.totalPendingWriteBytes()};
        });
        ch.eventLoop().execute(t);
        return t.get();
    }

    @Test
    void aThousandPeersThatNeverReadHoldAtMostTheirCreditInAFewBuffers() throws Exception {
        List<SocketChannel> peers = new ArrayList<>();
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(dir.resolve("v.sock_70")), PEERS);
            g.postRx(16, 4096);
            for (int i = 0; i < PEERS; i += 100) {
                for (int j = i; j < i + 100; j++) {
                    g.sendTx(30000 + j, 70, VsockPacket.OP_REQUEST, 0, 65536, 0, new byte[0]);
                }
                for (int j = i; j < i + 100; j++) {
                    peers.add(listener.accept());
                }
                for (int j = i; j < i + 100; j++) {
                    assertEquals(VsockPacket.OP_RESPONSE, g.nextRx().header().op());
                }
            }
            // Each peer gets one-byte packets, more than its socket buffer takes as separate writes.
            VirtqueueDriver.Buf[] bytePacket = new VirtqueueDriver.Buf[PEERS];
            VirtqueueDriver.Buf one = g.tx.readable(new byte[] {42});
            for (int i = 0; i < PEERS; i++) {
                bytePacket[i] = g.tx.readable(VsockGuest.header(30000 + i, 70, VsockPacket.OP_RW, 0, 65536, 0, 1).encode());
            }
            long sent = 0;
            for (int round = 0; round < PACKETS_EACH; round++) {
                for (int i = 0; i < PEERS; i++) {
                    g.tx.add(bytePacket[i], one);
                    if (++sent % 64 == 0) {
                        g.bench.kick(1);
                        while (g.tx.nextUsed() != null) {
                            // taken
                        }
                    }
                }
            }
            g.bench.kick(1);
            assertEquals(PEERS, device.connections(), "within credit: no connection was reset");
            assertEquals((long) PEERS * PACKETS_EACH, device.metrics().get("tx_bytes"));
            long entries = 0;
            long bytes = 0;
            for (int i = 0; i < PEERS; i++) {
                Channel ch;
                synchronized (device) {
                    ch = device.connection(70, 30000 + i).channel;
                }
                long[] o = outbound(ch);
                entries += o[0];
                bytes += o[1];
            }
            assertTrue(bytes <= (long) PEERS * VsockDevice.BUF_ALLOC, bytes + " bytes wait");
            assertTrue(entries <= 2L * PEERS, entries + " Netty write entries wait for " + PEERS + " peers");
        } finally {
            for (SocketChannel p : peers) {
                p.close();
            }
        }
    }

    @Test
    void hostBytesArrivingOneAtATimeAreGatheredWhileTheGuestIsBehind() throws Exception {
        g.postRx(16, 4096);
        try (SocketChannel host = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("v.sock")))) {
            host.write(ByteBuffer.wrap("CONNECT 40\n".getBytes(StandardCharsets.US_ASCII)));
            VsockPacket req = g.nextRx().header();
            g.sendTx(40, req.srcPort(), VsockPacket.OP_RESPONSE, 0, 0, 0, new byte[0]); // no credit: data waits
            assertEquals("OK " + req.srcPort(), VsockGuest.readLine(host));
            Channel ch;
            synchronized (device) {
                ch = device.connection(req.srcPort(), 40).channel;
            }
            // What Netty hands over when a host writes one byte at a time: a small buffer per read.
            int reads = 10_000;
            FutureTask<Void> feed = new FutureTask<>(() -> {
                for (int i = 0; i < reads; i++) {
                    ch.pipeline().fireChannelRead(ch.alloc().buffer(64).writeByte(i));
                }
                return null;
            });
            ch.eventLoop().execute(feed);
            feed.get();
            synchronized (device) {
                VsockConnection c = device.connection(req.srcPort(), 40);
                assertEquals(reads, c.pendingBytes);
                assertTrue(c.pending.size() <= reads / 64 + 1, c.pending.size() + " buffers hold " + reads + " bytes");
            }
        }
    }
}
