package dev.jvmm.devices.virtio.vsock;

import dev.jvmm.devices.virtio.DescriptorChain;
import dev.jvmm.devices.virtio.DeviceContext;
import dev.jvmm.devices.virtio.MmioTransport;
import dev.jvmm.devices.virtio.QueueDevice;
import dev.jvmm.devices.virtio.Virtqueue;
import dev.jvmm.devices.virtio.VirtqueueException;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.LineBasedFrameDecoder;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

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
 *
 * <p>This class holds the device's life cycle and decides when queues are served; the rest is
 * split by idea: {@link VsockConnections} (the table, replies and caps), {@link VsockTx} (packets
 * from the guest), {@link VsockRx} (packets to the guest), {@link VsockHostSide} (Unix sockets).
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
    /** Open connections, guest- and host-initiated together (each holds a host fd). */
    public static final int MAX_CONNECTIONS = VsockConnections.MAX_CONNECTIONS;
    /** Replies (RST, RESPONSE, credit) waiting for rx buffers before tx is held back. */
    public static final int MAX_PENDING_REPLIES = VsockConnections.MAX_PENDING_REPLIES;

    /** Held so the level set on it stays (JUL keeps loggers weakly). */
    private static final Logger NETTY_LOG = Logger.getLogger("io.netty");

    private final long guestCid;
    private final Path uds;
    private final EventLoopGroup group;
    private final Channel server;
    private final VsockConnections table = new VsockConnections(metrics);
    private final VsockRx rx;
    private final VsockTx txPackets;
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
        this.rx = new VsockRx(table, metrics, guestCid);
        this.txPackets = new VsockTx(this, table, guestCid, uds, group);
    }

    /**
     * Listens on {@code uds} for host connections. A leftover socket file from an earlier run is
     * replaced; any other existing file is an error.
     */
    public static VsockDevice open(long guestCid, Path uds) throws IOException {
        NETTY_LOG.setLevel(Level.SEVERE); // its start-up warnings (no NICs in the lab) are noise here
        if (!Epoll.isAvailable()) {
            throw new IOException("vsock needs Netty's epoll transport, unavailable here: " + Epoll.unavailabilityCause());
        }
        if (Files.exists(uds, LinkOption.NOFOLLOW_LINKS)) {
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
                            ch.pipeline().addLast("connect", new VsockHostSide.ConnectLine(self[0], self[0].table));
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
        Object mode = Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
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
        byte[] cfg = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, guestCid).array();
        MmioTransport.readConfigBytes(cfg, offset, data);
    }

    @Override
    protected void started(DeviceContext context) {
        txHeld = false;
        failed = false;
    }

    @Override
    protected void stopped() {
        table.closeAll();
        txHeld = false;
        failed = false;
    }

    /** Open connections (for tests and metrics). */
    public synchronized int connections() {
        return table.size();
    }

    /** The connection for a pair, or null (for tests that need its counters). */
    synchronized VsockConnection connection(int hostPort, int guestPort) {
        return table.get(hostPort, guestPort);
    }

    /** Replies waiting for rx buffers (for tests and metrics). */
    public synchronized int pendingReplies() {
        return table.pendingReplies();
    }

    @Override
    public synchronized void queueNotify(int index) {
        guarded("queue " + index, () -> {
            if (!running()) {
                return;
            }
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
    synchronized void guarded(String where, Runnable work) {
        try {
            work.run();
        } catch (Throwable t) {
            metrics.increment("errors");
            table.closeAll();
            if (context != null) { // else there is no driver to tell, and DRIVER_OK starts afresh
                failed = true;
                context.signals().deviceError(where + ": " + t);
            }
        }
    }

    /** Whether the device is between DRIVER_OK and reset and has not failed. */
    boolean running() {
        return context != null && !failed;
    }

    /** Fills rx buffers, then takes the tx chains held back while replies were full, while either moves. */
    void service() {
        if (!running()) {
            return;
        }
        rx.pump(context);
        while (txHeld && !table.repliesFull() && running()) {
            processTx();
            rx.pump(context);
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
                if (table.repliesFull()) {
                    txHeld = true;
                    metrics.increment("tx_held");
                    break;
                }
                if ((chain = tx.pop()) == null) {
                    break;
                }
                txPackets.handle(chain);
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
