package dev.jvmm.devices.virtio.vsock;

import dev.jvmm.devices.virtio.DescriptorChain;
import dev.jvmm.devices.virtio.QueueDevice;
import dev.jvmm.devices.virtio.Virtqueue;
import dev.jvmm.devices.virtio.VirtqueueException;
import dev.jvmm.devices.virtio.vsock.VsockConnection.State;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.LineBasedFrameDecoder;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * virtio-vsock (virtio 1.2, 5.10) with Firecracker's hybrid host side. A host program connects
 * to the Unix socket {@code uds}, writes {@code CONNECT <port>\n} and, once the guest accepts,
 * reads {@code OK <hostport>\n} and talks. A guest connection to CID 2 port P becomes a
 * connection to the Unix socket {@code uds_P}. Credit-based flow control both ways: the guest is
 * sent no more than it said it has room for, and reading from a Unix socket pauses while the
 * guest is behind. Unknown ports and connections get RST.
 *
 * <p>Nothing a guest does grows host memory without bound: at most {@link #MAX_CONNECTIONS}
 * connections (guest- and host-initiated together, RST or close beyond it), and while
 * {@link #MAX_PENDING_REPLIES} replies wait for rx buffers the device takes no more tx chains,
 * as Firecracker does: they stay in the guest's ring until rx buffers come, so no reply is lost.
 * A failure on a host-side thread puts the device in NEEDS_RESET instead of killing the thread.
 */
public final class VsockDevice extends QueueDevice {
    public static final long HOST_CID = 2;
    /** What jvmm tells the guest it may have in flight per connection, guest to host. */
    public static final int BUF_ALLOC = 256 * 1024;
    static final int MAX_PAYLOAD = 64 * 1024;
    static final int FIRST_HOST_PORT = 1 << 30;
    /** Bytes read from a Unix socket and not yet taken by the guest before jvmm stops reading it. */
    static final int PENDING_PAUSE = 256 * 1024;
    static final int RX = 0;
    static final int TX = 1;
    /** Open connections, each a host file descriptor; Firecracker's muxer caps at 1023 too. */
    public static final int MAX_CONNECTIONS = 1023;
    /** Replies (RST, RESPONSE, credit) waiting for rx buffers before tx is held back: a full rx ring's worth. */
    public static final int MAX_PENDING_REPLIES = 256;

    /** A packet for the guest with no payload. */
    private record Control(int hostPort, int guestPort, int op, int flags, VsockConnection conn) {}

    /** Held so the level set on it stays (JUL keeps loggers weakly). */
    private static final java.util.logging.Logger NETTY_LOG = java.util.logging.Logger.getLogger("io.netty");

    private final long guestCid;
    private final Path uds;
    private final EventLoopGroup group;
    private final Channel server;
    private final Map<Long, VsockConnection> conns = new HashMap<>();
    private final ArrayDeque<Control> control = new ArrayDeque<>();
    private int nextHostPort = FIRST_HOST_PORT;
    private int roundRobin;
    /** Host sockets accepted that have not sent their CONNECT line yet: they hold fds too. */
    private int handshaking;
    /** Tx chains wait in the guest's ring because {@link #MAX_PENDING_REPLIES} replies are queued. */
    private boolean txHeld;
    /** A host-side thread failed: no more queue work until the driver resets the device. */
    private boolean failed;

    private VsockDevice(long guestCid, Path uds, EventLoopGroup group, Channel server) {
        super("host_connections", "guest_connections", "rx_bytes", "tx_bytes", "rx_packets", "tx_packets", "rst_sent", "refused",
                "rejected_connections", "tx_held", "errors");
        this.guestCid = guestCid;
        this.uds = uds;
        this.group = group;
        this.server = server;
    }

    /**
     * Listens on {@code uds} for host connections. A leftover socket file from an earlier run is
     * replaced; any other existing file is an error.
     */
    public static VsockDevice open(long guestCid, Path uds) throws IOException {
        NETTY_LOG.setLevel(java.util.logging.Level.SEVERE); // its start-up warnings (no NICs in the lab) are noise here
        if (!Epoll.isAvailable()) {
            throw new IOException("vsock needs Netty's epoll transport, unavailable here: " + Epoll.unavailabilityCause());
        }
        if (Files.exists(uds, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            if (!"socket".equals(fileType(uds))) {
                throw new IOException(uds + " exists and is not a socket; vsock will not replace it");
            }
            Files.delete(uds);
        }
        if (uds.getParent() != null && !Files.isDirectory(uds.getParent())) {
            throw new IOException("directory " + uds.getParent() + " does not exist");
        }
        // Netty 4.1: 4.2's epoll handler drops a half-closed socket from epoll once it waits on
        // nothing, then fails the next write that fills the socket (epoll_ctl MOD: ENOENT).
        EventLoopGroup group = new EpollEventLoopGroup(1, r -> {
            Thread t = new Thread(r, "vsock-" + uds.getFileName());
            t.setDaemon(true);
            return t;
        });
        VsockDevice[] self = new VsockDevice[1];
        try {
            Channel server = new ServerBootstrap().group(group).channel(EpollServerDomainSocketChannel.class)
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast("line", new LineBasedFrameDecoder(64, true, true));
                            ch.pipeline().addLast("connect", self[0].new ConnectLine());
                        }
                    }).bind(new DomainSocketAddress(uds.toFile())).syncUninterruptibly().channel();
            self[0] = new VsockDevice(guestCid, uds, group, server);
            return self[0];
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IOException("cannot listen on " + uds + ": " + e.getMessage());
        }
    }

    private static String fileType(Path p) throws IOException {
        Object mode = Files.getAttribute(p, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS);
        return ((Integer) mode & 0170000) == 0140000 ? "socket" : "other";
    }

    public Path uds() {
        return uds;
    }

    @Override
    public int deviceType() {
        return TYPE_VSOCK;
    }

    @Override
    public String name() {
        return "vsock";
    }

    @Override
    public long features() {
        return 0; // stream sockets only, which need no feature bit
    }

    @Override
    public int queueCount() {
        return 3; // rx, tx, event
    }

    @Override
    public long maxChainBytes(int index) {
        return MAX_PAYLOAD + VsockPacket.HEADER_SIZE + 4096;
    }

    @Override
    public void readConfig(int offset, byte[] data) {
        byte[] cfg = ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, guestCid).array();
        dev.jvmm.devices.virtio.MmioTransport.readConfigBytes(cfg, offset, data);
    }


    @Override
    protected void stopped() {
        closeAll();
        txHeld = false;
        failed = false;
    }

    /** Closes every connection's Unix socket (host fds released) and forgets what was queued. */
    private void closeAll() {
        for (VsockConnection c : conns.values()) {
            c.dropPending();
            if (c.channel != null) {
                c.channel.close();
            }
        }
        conns.clear();
        control.clear();
    }

    /** Open connections (for tests and metrics). */
    public synchronized int connections() {
        return conns.size();
    }

    /** Replies waiting for rx buffers (for tests and metrics). */
    public synchronized int pendingReplies() {
        return control.size();
    }

    @Override
    public synchronized void queueNotify(int index) {
        guarded("queue " + index, () -> {
            if (index == TX) {
                processTx();
            }
            service(); // new rx buffers, or packets the tx queue produced
        });
    }

    /**
     * Runs device work from any thread, holding the monitor. Whatever it throws, {@code Error}s
     * included, is put down to the guest's rings (the device trusts nothing else it reads): the
     * device goes to NEEDS_RESET, drops its connections and does nothing more until reset, and
     * the calling thread (a Netty event loop, the notifier) lives on.
     */
    private synchronized void guarded(String where, Runnable work) {
        try {
            work.run();
        } catch (Throwable t) {
            failed = true;
            metrics.increment("errors");
            closeAll();
            if (context != null) {
                context.signals().deviceError(where + ": " + t);
            }
        }
    }

    /** Fills rx buffers, then takes the tx chains held back while replies were full, while either moves. */
    private void service() {
        if (context == null || failed) {
            return;
        }
        pumpRx();
        while (txHeld && control.size() < MAX_PENDING_REPLIES && context != null) {
            processTx();
            pumpRx();
        }
    }

    // ---------------------------------------------------------------- guest to host

    /**
     * Takes tx chains until the ring is empty or {@link #MAX_PENDING_REPLIES} replies wait for rx
     * buffers; then the rest stay in the ring (the guest sees a slow device, never a lost reply)
     * until {@link #service()} finds room.
     */
    private void processTx() {
        Virtqueue tx = context.queues().get(TX);
        boolean used = false;
        txHeld = false;
        try {
            DescriptorChain chain;
            while (true) {
                if (control.size() >= MAX_PENDING_REPLIES) {
                    txHeld = true;
                    metrics.increment("tx_held");
                    break;
                }
                if ((chain = tx.pop()) == null) {
                    break;
                }
                handleTx(chain);
                tx.addUsed(chain.head(), 0);
                used = true;
            }
        } catch (VirtqueueException e) {
            context.signals().deviceError("queue " + TX + ": " + e.getMessage());
        }
        if (used) {
            context.signals().usedBuffers(tx);
        }
    }

    private void handleTx(DescriptorChain chain) {
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
        if (p.len() < 0 || p.len() > MAX_PAYLOAD || p.len() > in.remaining() || p.srcCid() != guestCid || p.dstCid() != HOST_CID) {
            metrics.increment("errors"); // malformed or misaddressed: dropped, as Firecracker does
            return;
        }
        if (p.type() != VsockPacket.TYPE_STREAM) {
            rst(p.dstPort(), p.srcPort(), null);
            return;
        }
        VsockConnection c = conns.get(VsockConnection.key(p.dstPort(), p.srcPort()));
        if (c != null) {
            c.credit(p);
            c.creditRequested = false;
        }
        switch (p.op()) {
            case VsockPacket.OP_REQUEST -> {
                if (c != null) {
                    // The guest reuses a pair it thinks is free: both ends are out of step, so the
                    // old connection goes too (its host fd with it) rather than lingering unseen.
                    rst(p.dstPort(), p.srcPort(), c);
                } else {
                    guestConnect(p);
                }
            }
            case VsockPacket.OP_RESPONSE -> {
                if (c == null || c.state != State.HOST_CONNECTING) {
                    rst(p.dstPort(), p.srcPort(), c);
                    return;
                }
                c.state = State.ESTABLISHED;
                metrics.increment("host_connections");
                c.channel.writeAndFlush(Unpooled.copiedBuffer("OK " + Integer.toUnsignedString(c.hostPort) + "\n",
                        StandardCharsets.US_ASCII));
                setAutoRead(c.channel, true);
            }
            case VsockPacket.OP_RW -> {
                if (c == null || c.state != State.ESTABLISHED || (c.guestShutdown & VsockPacket.SHUTDOWN_SEND) != 0) {
                    rst(p.dstPort(), p.srcPort(), c);
                    return;
                }
                forwardToHost(c, in, p.len());
            }
            case VsockPacket.OP_CREDIT_UPDATE -> {
                if (c == null) {
                    rst(p.dstPort(), p.srcPort(), null);
                }
            }
            case VsockPacket.OP_CREDIT_REQUEST -> {
                if (c == null) {
                    rst(p.dstPort(), p.srcPort(), null);
                } else {
                    creditUpdate(c);
                }
            }
            case VsockPacket.OP_SHUTDOWN -> {
                if (c == null) {
                    rst(p.dstPort(), p.srcPort(), null);
                    return;
                }
                c.guestShutdown |= p.flags() & (VsockPacket.SHUTDOWN_RCV | VsockPacket.SHUTDOWN_SEND);
                finishGuestShutdown(c);
            }
            case VsockPacket.OP_RST -> {
                if (c != null) {
                    remove(c);
                }
            }
            default -> rst(p.dstPort(), p.srcPort(), c);
        }
    }

    private void forwardToHost(VsockConnection c, DescriptorChain.Reader in, int len) {
        if (c.unforwarded() + len > BUF_ALLOC) {
            metrics.increment("errors"); // the guest ignored the credit it was given
            rst(c.hostPort, c.guestPort, c);
            return;
        }
        ByteBuf buf = c.channel.alloc().buffer(len);
        int left = len;
        while (left > 0) {
            ByteBuffer v = in.next(left);
            left -= v.remaining();
            buf.writeBytes(v);
        }
        c.rxCnt += len;
        metrics.add("tx_bytes", len);
        c.channel.writeAndFlush(buf).addListener(f -> guarded("write to host", () -> {
            if (!f.isSuccess()) {
                if (conns.get(c.key()) == c) {
                    rst(c.hostPort, c.guestPort, c);
                    service();
                }
                return;
            }
            c.fwdCnt += len;
            if (conns.get(c.key()) != c) {
                return;
            }
            if (c.unannouncedFwd() >= BUF_ALLOC / 4) {
                creditUpdate(c);
            }
            finishGuestShutdown(c);
            service();
        }));
    }

    /** Acts on the guest's SHUTDOWN once everything it sent has reached the Unix socket. */
    private void finishGuestShutdown(VsockConnection c) {
        if (c.guestShutdown == 0 || c.unforwarded() != 0 || conns.get(c.key()) != c) {
            return;
        }
        if (c.guestShutdown == (VsockPacket.SHUTDOWN_RCV | VsockPacket.SHUTDOWN_SEND)) {
            rst(c.hostPort, c.guestPort, c); // the guest closed: RST completes its close
        } else if ((c.guestShutdown & VsockPacket.SHUTDOWN_SEND) != 0 && !c.outputShut
                && c.channel instanceof io.netty.channel.socket.DuplexChannel ch) {
            c.outputShut = true;
            ch.shutdownOutput();
        }
        finishIfBothDone(c);
    }

    /** Both sides have stopped sending and everything was delivered: RST ends it for the guest. */
    private void finishIfBothDone(VsockConnection c) {
        if (conns.get(c.key()) == c && c.outputShut && c.shutdownSent
                && (c.shutdownToGuest & VsockPacket.SHUTDOWN_SEND) != 0 && c.pendingBytes == 0) {
            rst(c.hostPort, c.guestPort, c);
        }
    }

    private void guestConnect(VsockPacket p) {
        Path target = Path.of(uds + "_" + Integer.toUnsignedString(p.dstPort()));
        if (!Files.exists(target)) {
            metrics.increment("refused");
            rst(p.dstPort(), p.srcPort(), null);
            return;
        }
        if (atCapacity()) {
            metrics.increment("rejected_connections");
            rst(p.dstPort(), p.srcPort(), null);
            return;
        }
        VsockConnection c = new VsockConnection(p.dstPort(), p.srcPort(), State.GUEST_CONNECTING);
        c.credit(p);
        conns.put(c.key(), c);
        new Bootstrap().group(group).channel(EpollDomainSocketChannel.class)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true).option(ChannelOption.AUTO_READ, false)
                .handler(new Data(c)).connect(new DomainSocketAddress(target.toFile()))
                .addListener(f -> guarded("connect to " + target.getFileName(), () -> {
                    Channel ch = ((ChannelFuture) f).channel();
                    if (conns.get(c.key()) != c) {
                        ch.close(); // reset, RST or failure meanwhile: the fd goes at once
                        return;
                    }
                    if (!f.isSuccess()) {
                        metrics.increment("refused");
                        rst(c.hostPort, c.guestPort, c);
                    } else {
                        c.channel = ch;
                        c.state = State.ESTABLISHED;
                        metrics.increment("guest_connections");
                        control.add(new Control(c.hostPort, c.guestPort, VsockPacket.OP_RESPONSE, 0, c));
                        setAutoRead(ch, true);
                    }
                    service();
                }));
    }

    /** Whether one more connection (or host socket awaiting its CONNECT line) would pass {@link #MAX_CONNECTIONS}. */
    private boolean atCapacity() {
        return conns.size() + handshaking >= MAX_CONNECTIONS;
    }

    /** Queues one CREDIT_UPDATE for {@code c}; when it goes it carries the latest counters, so one is enough. */
    private void creditUpdate(VsockConnection c) {
        if (!c.creditUpdateQueued) {
            c.creditUpdateQueued = true;
            control.add(new Control(c.hostPort, c.guestPort, VsockPacket.OP_CREDIT_UPDATE, 0, c));
        }
    }

    /**
     * Pauses or resumes reading a Unix socket. Once its input is shut (the host half-closed), Netty
     * has taken it out of epoll's read set, and changing that would fail (epoll_ctl: ENOENT).
     */
    private static void setAutoRead(Channel ch, boolean on) {
        if (ch instanceof io.netty.channel.socket.DuplexChannel d && d.isInputShutdown()) {
            return;
        }
        ch.config().setAutoRead(on);
    }

    /** Sends RST for the pair and forgets the connection, if there is one. */
    private void rst(int hostPort, int guestPort, VsockConnection c) {
        control.add(new Control(hostPort, guestPort, VsockPacket.OP_RST, 0, null));
        metrics.increment("rst_sent");
        if (c != null) {
            remove(c);
        }
    }

    private void remove(VsockConnection c) {
        if (conns.get(c.key()) == c) {
            conns.remove(c.key());
        }
        c.dropPending();
        if (c.channel != null) {
            c.channel.close();
        }
    }

    // ---------------------------------------------------------------- host to guest

    /** Fills the guest's rx buffers: control packets first, then data round-robin, within credit. */
    private void pumpRx() {
        if (context == null) {
            return;
        }
        Virtqueue rx = context.queues().get(RX);
        boolean used = false;
        try {
            while (true) {
                Control ctl = control.peek();
                if (ctl != null && ctl.conn() != null && conns.get(ctl.conn().key()) != ctl.conn()) {
                    control.poll();
                    continue; // its connection is gone; a RST already went or will go
                }
                VsockConnection data = ctl == null ? nextSender() : null;
                if (ctl == null && data == null) {
                    if (control.isEmpty()) {
                        break;
                    }
                    continue; // nextSender queued a CREDIT_REQUEST
                }
                // Only pop() looks at the ring: when it is empty, pop() publishes avail_event
                // first (EVENT_IDX), so the guest's next refill notifies rx and this runs again.
                DescriptorChain chain = rx.pop();
                if (chain == null) {
                    break; // ctl stays queued
                }
                DescriptorChain.Writer out = chain.writer();
                if (chain.writableBytes() < VsockPacket.HEADER_SIZE) {
                    metrics.increment("errors"); // a buffer too small for a header: returned empty
                    rx.addUsed(chain.head(), 0);
                    used = true;
                    continue;
                }
                if (ctl != null) {
                    control.poll();
                }
                long written;
                if (ctl != null) {
                    written = send(out, ctl.hostPort(), ctl.guestPort(), ctl.op(), ctl.flags(), ctl.conn(), null, 0);
                } else if (data.pendingBytes == 0) {
                    data.shutdownSent = true;
                    written = send(out, data.hostPort, data.guestPort, VsockPacket.OP_SHUTDOWN, data.shutdownToGuest, data, null, 0);
                    finishIfBothDone(data);
                } else {
                    int room = (int) Math.min(chain.writableBytes() - VsockPacket.HEADER_SIZE, MAX_PAYLOAD);
                    int n = (int) Math.min(Math.min(data.pendingBytes, data.peerCredit()), room);
                    written = send(out, data.hostPort, data.guestPort, VsockPacket.OP_RW, 0, data, data.pending, n);
                    data.txCnt += n;
                    data.pendingBytes -= n;
                    metrics.add("rx_bytes", n);
                    if (data.paused && data.pendingBytes < PENDING_PAUSE / 2) {
                        data.paused = false;
                        setAutoRead(data.channel, true);
                    }
                }
                rx.addUsed(chain.head(), written);
                metrics.increment("rx_packets");
                used = true;
            }
        } catch (VirtqueueException e) {
            context.signals().deviceError("rx queue: " + e.getMessage());
        }
        if (used) {
            context.signals().usedBuffers(rx);
        }
    }

    /** The next connection with something for the guest that credit allows; asks for credit where it ran out. */
    private VsockConnection nextSender() {
        if (conns.isEmpty()) {
            return null;
        }
        List<VsockConnection> all = new ArrayList<>(conns.values());
        for (int i = 0; i < all.size(); i++) {
            VsockConnection c = all.get((roundRobin + i) % all.size());
            if (c.state != State.ESTABLISHED) {
                continue;
            }
            if (c.pendingBytes > 0) {
                if (c.peerCredit() > 0) {
                    roundRobin = (roundRobin + i + 1) % all.size();
                    return c;
                }
                if (!c.creditRequested) {
                    c.creditRequested = true;
                    control.add(new Control(c.hostPort, c.guestPort, VsockPacket.OP_CREDIT_REQUEST, 0, c));
                }
            } else if (c.shutdownToGuest != 0 && !c.shutdownSent) {
                return c;
            }
        }
        return null;
    }

    private long send(DescriptorChain.Writer out, int hostPort, int guestPort, int op, int flags, VsockConnection c,
                      ArrayDeque<ByteBuf> from, int n) {
        int fwd = c == null ? 0 : c.fwdCnt;
        if (c != null) {
            c.lastSentFwdCnt = fwd;
            if (op == VsockPacket.OP_CREDIT_UPDATE) {
                c.creditUpdateQueued = false;
            }
        }
        byte[] h = new VsockPacket(HOST_CID, guestCid, hostPort, guestPort, n, VsockPacket.TYPE_STREAM, op, flags,
                c == null ? 0 : BUF_ALLOC, fwd).encode();
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

    // ---------------------------------------------------------------- the Unix-socket side

    /** Reads the host's {@code CONNECT <port>} line, then hands the channel to {@link Data}. */
    final class ConnectLine extends ChannelInboundHandlerAdapter {
        /** This socket counts in {@link #handshaking} until its line is read or it closes. */
        private boolean counted;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            synchronized (VsockDevice.this) {
                if (atCapacity()) {
                    metrics.increment("rejected_connections");
                    ctx.close();
                    return;
                }
                handshaking++;
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
            synchronized (VsockDevice.this) {
                if (counted) {
                    counted = false;
                    handshaking--;
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
            guarded("host connect", () -> {
                if (target < 0 || target > 0xffffffffL || context == null || failed) {
                    metrics.increment("refused");
                    ctx.close();
                    return;
                }
                if (atCapacity()) {
                    metrics.increment("rejected_connections");
                    ctx.close();
                    return;
                }
                int hostPort = allocateHostPort((int) target);
                VsockConnection c = new VsockConnection(hostPort, (int) target, State.HOST_CONNECTING);
                c.channel = ctx.channel();
                conns.put(c.key(), c);
                ctx.channel().config().setAutoRead(false); // until the guest accepts
                ctx.pipeline().addLast("data", new Data(c));
                ctx.pipeline().remove("connect");
                ctx.pipeline().remove("line"); // bytes already after the line go on to Data
                control.add(new Control(c.hostPort, c.guestPort, VsockPacket.OP_REQUEST, 0, c));
                service();
            });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            metrics.increment("refused"); // e.g. a line longer than any CONNECT
            ctx.close();
        }
    }

    private int allocateHostPort(int guestPort) {
        while (true) {
            int p = nextHostPort++;
            if (nextHostPort == 0) {
                nextHostPort = FIRST_HOST_PORT;
            }
            if (!conns.containsKey(VsockConnection.key(p, guestPort))) {
                return p;
            }
        }
    }

    /** Bytes from the Unix socket for one connection, and its half or full close. */
    final class Data extends ChannelInboundHandlerAdapter {
        private final VsockConnection c;

        Data(VsockConnection c) {
            this.c = c;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            guarded("read from host", () -> {
                if (conns.get(c.key()) != c || (c.shutdownToGuest & VsockPacket.SHUTDOWN_SEND) != 0) {
                    b.release();
                    return;
                }
                c.pending.add(b);
                c.pendingBytes += b.readableBytes();
                if (c.pendingBytes >= PENDING_PAUSE && !c.paused) {
                    c.paused = true;
                    setAutoRead(ctx.channel(), false);
                }
                service();
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
            guarded("host close", () -> {
                if (conns.get(c.key()) != c) {
                    return;
                }
                if (c.state != State.ESTABLISHED) {
                    rst(c.hostPort, c.guestPort, c);
                } else if ((c.shutdownToGuest | flags) != c.shutdownToGuest) {
                    c.shutdownToGuest |= flags;
                    c.shutdownSent = false;
                }
                service();
            });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            metrics.increment("errors");
            ctx.close();
        }
    }

    @Override
    public void close() {
        reset();
        server.close().awaitUninterruptibly(1000);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3000);
        try {
            Files.deleteIfExists(uds);
        } catch (IOException ignored) {
            // the socket file stays behind; the next run replaces it
        }
    }
}
