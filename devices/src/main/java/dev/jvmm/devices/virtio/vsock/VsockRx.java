package dev.jvmm.devices.virtio.vsock;

import dev.jvmm.devices.virtio.DescriptorChain;
import dev.jvmm.devices.virtio.DeviceContext;
import dev.jvmm.devices.virtio.DeviceMetrics;
import dev.jvmm.devices.virtio.Virtqueue;
import dev.jvmm.devices.virtio.VirtqueueException;
import dev.jvmm.devices.virtio.vsock.VsockConnections.Reply;
import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * Packet I/O towards the guest: fills its rx buffers with replies first, then data from the
 * connections round-robin, within the credit each guest socket gave. Runs under the device's
 * monitor.
 */
final class VsockRx {
    private final VsockConnections table;
    private final DeviceMetrics metrics;
    private final long guestCid;

    VsockRx(VsockConnections table, DeviceMetrics metrics, long guestCid) {
        this.table = table;
        this.metrics = metrics;
        this.guestCid = guestCid;
    }

    void pump(DeviceContext context) {
        Virtqueue rx = context.queues().get(VsockDevice.RX);
        boolean used = false;
        try {
            while (true) {
                Reply reply = table.peekReply();
                VsockConnection data = reply == null ? table.nextSender() : null;
                if (reply == null && data == null) {
                    if (!table.hasReplies()) {
                        break;
                    }
                    continue; // nextSender asked for credit
                }
                // Only pop() looks at the ring: when it is empty, pop() publishes avail_event
                // first (EVENT_IDX), so the guest's next refill notifies rx and this runs again.
                DescriptorChain chain = rx.pop();
                if (chain == null) {
                    break; // the reply stays queued
                }
                used = true;
                if (chain.writableBytes() < VsockPacket.HEADER_SIZE) {
                    metrics.increment("errors"); // a buffer too small for a header: returned empty
                    rx.addUsed(chain.head(), 0);
                    continue;
                }
                rx.addUsed(chain.head(), reply != null ? sendReply(chain.writer(), reply) : sendData(chain, data));
                metrics.increment("rx_packets");
            }
        } catch (VirtqueueException e) {
            context.signals().deviceError("rx queue: " + e.getMessage());
        }
        if (used) {
            context.signals().usedBuffers(rx);
        }
    }

    private long sendReply(DescriptorChain.Writer out, Reply r) {
        table.pollReply();
        return send(out, r.hostPort(), r.guestPort(), r.op(), r.flags(), r.conn(), null, 0);
    }

    private long sendData(DescriptorChain chain, VsockConnection c) {
        DescriptorChain.Writer out = chain.writer();
        if (c.pendingBytes == 0) {
            c.shutdownSent = true;
            long written = send(out, c.hostPort, c.guestPort, VsockPacket.OP_SHUTDOWN, c.shutdownToGuest, c, null, 0);
            table.finishIfBothDone(c);
            return written;
        }
        int room = (int) Math.min(chain.writableBytes() - VsockPacket.HEADER_SIZE, VsockDevice.MAX_PAYLOAD);
        int n = (int) Math.min(Math.min(c.pendingBytes, c.peerCredit()), room);
        long written = send(out, c.hostPort, c.guestPort, VsockPacket.OP_RW, 0, c, c.pending, n);
        c.txCnt += n;
        c.pendingBytes -= n;
        metrics.add("rx_bytes", n);
        if (c.paused && c.pendingBytes < VsockDevice.PENDING_PAUSE / 2) {
            c.paused = false;
            VsockConnections.setAutoRead(c.channel, true);
        }
        return written;
    }

    private long send(DescriptorChain.Writer out, int hostPort, int guestPort, int op, int flags, VsockConnection c,
                      ArrayDeque<ByteBuf> from, int n) {
        int fwd = c == null ? 0 : c.fwdCnt;
        if (c != null) {
            c.announced = true;
            c.lastSentFwdCnt = fwd; // every packet carries fwd_cnt: no separate update is owed now
            if (op == VsockPacket.OP_CREDIT_UPDATE) {
                c.creditUpdateQueued = false;
            }
        }
        byte[] h = new VsockPacket(VsockDevice.HOST_CID, guestCid, hostPort, guestPort, n, VsockPacket.TYPE_STREAM, op, flags,
                c == null ? 0 : VsockDevice.BUF_ALLOC, fwd).encode();
        out.write(h, 0, h.length);
        int left = n;
        while (left > 0) {
            ByteBuf b = from.peek();
            ByteBuffer v = out.next(Math.min(left, b.readableBytes()));
            int k = v.remaining();
            b.readBytes(v);
            left -= k;
            if (!b.isReadable()) {
                from.poll().release();
            }
        }
        return h.length + (long) n;
    }
}
