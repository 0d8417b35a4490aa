package dev.jvmm.devices.virtio.vsock;

import dev.jvmm.devices.virtio.DeviceMetrics;
import dev.jvmm.devices.virtio.vsock.VsockConnection.State;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;

import java.nio.charset.StandardCharsets;

/**
 * The Unix-socket side of the device, as Netty handlers on its event loop: a host program's
 * {@code CONNECT <port>} line, then the bytes and the half or full close of every connection.
 * Each handler does its work through {@link VsockDevice#guarded}, under the device's monitor.
 */
final class VsockHostSide {
    private VsockHostSide() {}

    /** Reads the host's {@code CONNECT <port>} line, then hands the channel to {@link Data}. */
    static final class ConnectLine extends ChannelInboundHandlerAdapter {
        private final VsockDevice device;
        private final VsockConnections table;
        /** This socket counts against the connection cap until its line is read or it closes. */
        private boolean counted;

        ConnectLine(VsockDevice device, VsockConnections table) {
            this.device = device;
            this.table = table;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            synchronized (device) {
                if (table.atCapacity()) {
                    device.metrics().increment("rejected_connections");
                    ctx.close();
                    return;
                }
                table.handshakeStarted();
                counted = true;
            }
            ctx.fireChannelActive();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            release();
            ctx.fireChannelInactive();
        }

        private void release() {
            synchronized (device) {
                if (counted) {
                    counted = false;
                    table.handshakeEnded();
                }
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf line = (ByteBuf) msg;
            String s = line.toString(StandardCharsets.US_ASCII).trim();
            line.release();
            long port = -1;
            if (s.startsWith("CONNECT ")) {
                try {
                    port = Long.parseLong(s.substring(8).trim());
                } catch (NumberFormatException ignored) {
                    // stays -1
                }
            }
            long target = port;
            release();
            device.guarded("host connect", () -> {
                DeviceMetrics metrics = device.metrics();
                if (target < 0 || target > 0xffffffffL || !device.running()) {
                    metrics.increment("refused");
                    ctx.close();
                    return;
                }
                if (table.atCapacity()) {
                    metrics.increment("rejected_connections");
                    ctx.close();
                    return;
                }
                VsockConnection c = new VsockConnection(table.allocateHostPort((int) target), (int) target, State.HOST_CONNECTING);
                c.channel = ctx.channel();
                table.add(c);
                ctx.channel().config().setAutoRead(false); // until the guest accepts
                ctx.pipeline().addLast("data", new Data(device, table, c));
                ctx.pipeline().remove("connect");
                ctx.pipeline().remove("line"); // bytes already after the line go on to Data
                table.reply(c, VsockPacket.OP_REQUEST);
                device.service();
            });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            device.metrics().increment("refused"); // e.g. a line longer than any CONNECT
            ctx.close();
        }
    }

    /** Bytes from the Unix socket for one connection, and its half or full close. */
    static final class Data extends ChannelInboundHandlerAdapter {
        private final VsockDevice device;
        private final VsockConnections table;
        private final VsockConnection c;

        Data(VsockDevice device, VsockConnections table, VsockConnection c) {
            this.device = device;
            this.table = table;
            this.c = c;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            device.guarded("read from host", () -> {
                if (!table.isLive(c) || (c.shutdownToGuest & VsockPacket.SHUTDOWN_SEND) != 0) {
                    b.release();
                    return;
                }
                c.pendingBytes += b.readableBytes();
                ByteBuf tail = c.pending.peekLast();
                if (tail != null && tail.writableBytes() >= b.readableBytes()) {
                    // A host writing a byte at a time must not cost a buffer per byte while the
                    // guest is behind: small reads join the last one where it has room.
                    tail.writeBytes(b);
                    b.release();
                } else {
                    c.pending.add(b);
                }
                if (c.pendingBytes >= VsockDevice.PENDING_PAUSE && !c.paused) {
                    c.paused = true;
                    VsockConnections.setAutoRead(ctx.channel(), false);
                }
                device.service();
            });
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                hostClosed(VsockPacket.SHUTDOWN_SEND); // no more data will come from the host
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            hostClosed(VsockPacket.SHUTDOWN_SEND | VsockPacket.SHUTDOWN_RCV);
        }

        private void hostClosed(int flags) {
            device.guarded("host close", () -> {
                if (!table.isLive(c)) {
                    return;
                }
                if (c.state != State.ESTABLISHED) {
                    table.rst(c);
                } else if ((c.shutdownToGuest | flags) != c.shutdownToGuest) {
                    c.shutdownToGuest |= flags;
                    c.shutdownSent = false;
                }
                device.service();
            });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            device.metrics().increment("errors");
            ctx.close();
        }
    }
}
