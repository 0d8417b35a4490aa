package dev.jvmm.devices.virtio.vsock;

import dev.jvmm.devices.virtio.DescriptorChain;
import dev.jvmm.devices.virtio.DeviceMetrics;
import dev.jvmm.devices.virtio.VirtqueueException;
import dev.jvmm.devices.virtio.vsock.VsockConnection.State;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Packets from the guest, one tx chain each: the connection state machine's guest-driven steps
 * (REQUEST to {@code uds_P}, RESPONSE, data within credit, SHUTDOWN, RST) and data forwarded to
 * the Unix sockets. Runs under the device's monitor; {@link VsockDevice} decides when tx is taken.
 */
final class VsockTx {
    private final VsockDevice device;
    private final VsockConnections table;
    private final DeviceMetrics metrics;
    private final long guestCid;
    private final Path uds;
    private final EventLoopGroup group;

    VsockTx(VsockDevice device, VsockConnections table, long guestCid, Path uds, EventLoopGroup group) {
        this.device = device;
        this.table = table;
        this.metrics = device.metrics();
        this.guestCid = guestCid;
        this.uds = uds;
        this.group = group;
    }

    void handle(DescriptorChain chain) {
        DescriptorChain.Reader in = chain.reader();
        byte[] h = new byte[VsockPacket.HEADER_SIZE];
        try {
            in.readFully(h);
        } catch (VirtqueueException e) {
            metrics.increment("errors");
            return;
        }
        VsockPacket p = VsockPacket.decode(h);
        metrics.increment("tx_packets");
        if (p.len() < 0 || p.len() > VsockDevice.MAX_PAYLOAD || p.len() > in.remaining() || p.srcCid() != guestCid
                || p.dstCid() != VsockDevice.HOST_CID) {
            metrics.increment("errors"); // malformed or misaddressed: dropped, as Firecracker does
            return;
        }
        if (p.type() != VsockPacket.TYPE_STREAM) {
            table.rst(p.dstPort(), p.srcPort(), null);
            return;
        }
        VsockConnection c = table.get(p.dstPort(), p.srcPort());
        if (c != null) {
            c.credit(p);
            c.creditRequested = false;
        }
        switch (p.op()) {
            case VsockPacket.OP_REQUEST -> {
                if (c != null) {
                    // The guest reuses a pair it thinks is free: both ends are out of step, so the
                    // old connection goes too (its host fd with it) rather than lingering unseen.
                    table.rst(p.dstPort(), p.srcPort(), c);
                } else {
                    guestConnect(p);
                }
            }
            case VsockPacket.OP_RESPONSE -> {
                if (c == null || c.state != State.HOST_CONNECTING) {
                    table.rst(p.dstPort(), p.srcPort(), c);
                    return;
                }
                c.state = State.ESTABLISHED;
                metrics.increment("host_connections");
                c.channel.writeAndFlush(Unpooled.copiedBuffer("OK " + Integer.toUnsignedString(c.hostPort) + "\n",
                        StandardCharsets.US_ASCII));
                VsockConnections.setAutoRead(c.channel, true);
            }
            case VsockPacket.OP_RW -> {
                if (c == null || c.state != State.ESTABLISHED || (c.guestShutdown & VsockPacket.SHUTDOWN_SEND) != 0) {
                    table.rst(p.dstPort(), p.srcPort(), c);
                    return;
                }
                forwardToHost(c, in, p.len());
            }
            case VsockPacket.OP_CREDIT_UPDATE -> {
                if (c == null) {
                    table.rst(p.dstPort(), p.srcPort(), null);
                }
            }
            case VsockPacket.OP_CREDIT_REQUEST -> {
                if (c == null) {
                    table.rst(p.dstPort(), p.srcPort(), null);
                } else {
                    table.creditUpdate(c);
                }
            }
            case VsockPacket.OP_SHUTDOWN -> {
                if (c == null) {
                    table.rst(p.dstPort(), p.srcPort(), null);
                    return;
                }
                c.guestShutdown |= p.flags() & (VsockPacket.SHUTDOWN_RCV | VsockPacket.SHUTDOWN_SEND);
                table.finishGuestShutdown(c);
            }
            case VsockPacket.OP_RST -> {
                if (c != null) {
                    table.remove(c);
                }
            }
            default -> table.rst(p.dstPort(), p.srcPort(), c);
        }
    }

    /**
     * Copies a packet's payload towards the Unix socket. While one write is in flight, later
     * payloads join one buffer that goes when it completes: a connection holds at most two
     * buffers and one pending write whatever the packet sizes, and no more bytes than its credit.
     */
    private void forwardToHost(VsockConnection c, DescriptorChain.Reader in, int len) {
        if (c.unforwarded() + len > VsockDevice.BUF_ALLOC) {
            metrics.increment("errors"); // the guest ignored the credit it was given
            table.rst(c);
            return;
        }
        if (len == 0) {
            return; // nothing to write: an empty write would still take a place in Netty's queue
        }
        if (c.toHost == null) {
            c.toHost = c.channel.alloc().buffer(len, VsockDevice.BUF_ALLOC);
        }
        int left = len;
        while (left > 0) {
            ByteBuffer v = in.next(left);
            left -= v.remaining();
            c.toHost.writeBytes(v);
        }
        c.rxCnt += len;
        metrics.add("tx_bytes", len);
        if (!c.writing) {
            writeToHost(c);
        }
    }

    private void writeToHost(VsockConnection c) {
        ByteBuf buf = c.toHost;
        c.toHost = null;
        c.writing = true;
        int len = buf.readableBytes();
        c.channel.writeAndFlush(buf).addListener(f -> device.guarded("write to host", () -> {
            c.writing = false;
            if (!table.isLive(c)) {
                return;
            }
            if (!f.isSuccess()) {
                table.rst(c);
                device.service();
                return;
            }
            c.fwdCnt += len;
            if (c.toHost != null) {
                writeToHost(c);
            }
            if (c.unannouncedFwd() >= VsockDevice.BUF_ALLOC / 4) {
                table.creditUpdate(c);
            }
            table.finishGuestShutdown(c);
            device.service();
        }));
    }



    private void guestConnect(VsockPacket p) {
        Path target = Path.of(uds + "_" + Integer.toUnsignedString(p.dstPort()));
        if (!Files.exists(target)) {
            metrics.increment("refused");
            table.rst(p.dstPort(), p.srcPort(), null);
            return;
        }
        if (table.atCapacity()) {
            metrics.increment("rejected_connections");
            table.rst(p.dstPort(), p.srcPort(), null);
            return;
        }
        VsockConnection c = new VsockConnection(p.dstPort(), p.srcPort(), State.GUEST_CONNECTING);
        c.credit(p);
        table.add(c);
        new Bootstrap().group(group).channel(EpollDomainSocketChannel.class)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true).option(ChannelOption.AUTO_READ, false)
                .handler(new VsockHostSide.Data(device, table, c)).connect(new DomainSocketAddress(target.toFile()))
                .addListener(f -> device.guarded("connect to " + target.getFileName(), () -> {
                    Channel ch = ((ChannelFuture) f).channel();
                    if (!table.isLive(c)) {
                        ch.close(); // reset, RST or failure meanwhile: the fd goes at once
                        return;
                    }
                    if (!f.isSuccess()) {
                        metrics.increment("refused");
                        table.rst(c);
                    } else {
                        c.channel = ch;
                        c.state = State.ESTABLISHED;
                        metrics.increment("guest_connections");
                        table.reply(c, VsockPacket.OP_RESPONSE);
                        VsockConnections.setAutoRead(ch, true);
                    }
                    device.service();
                }));
    }
}
