package dev.jvmm.devices.virtio.net;

import dev.jvmm.devices.virtio.DescriptorChain;
import dev.jvmm.devices.virtio.QueueDevice;
import dev.jvmm.devices.virtio.DeviceContext;
import dev.jvmm.devices.virtio.MmioTransport;
import dev.jvmm.devices.virtio.VirtioFeatures;
import dev.jvmm.devices.virtio.Virtqueue;
import dev.jvmm.devices.virtio.VirtqueueException;
import dev.jvmm.vmm.sys.Tap;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.BooleanSupplier;

/**
 * virtio-net (virtio 1.2, 5.1) with one rx and one tx queue. Frames keep their 12-byte
 * virtio_net_hdr_v1 end to end, so checksum and TSO offloads the guest negotiates pass straight
 * to the backend (a TAP with IFF_VNET_HDR); they are offered only if the TAP accepts them.
 * The MAC and link status are in config space.
 */
public final class NetDevice extends QueueDevice {
    public static final int F_CSUM = 0;
    public static final int F_GUEST_CSUM = 1;
    public static final int F_MAC = 5;
    public static final int F_GUEST_TSO4 = 7;
    public static final int F_GUEST_TSO6 = 8;
    public static final int F_GUEST_ECN = 9;
    public static final int F_HOST_TSO4 = 11;
    public static final int F_HOST_TSO6 = 12;
    public static final int F_HOST_ECN = 13;
    public static final int F_STATUS = 16;
    public static final int S_LINK_UP = 1;
    /** virtio_net_hdr_v1: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers. */
    public static final int HEADER_SIZE = 12;
    /** Largest frame either way: a 64 KiB GSO frame plus Ethernet header and virtio-net header. */
    public static final int MAX_FRAME = 65550 + HEADER_SIZE;
    static final int RX = 0;
    static final int TX = 1;

    private final String name;
    private final byte[] mac;
    private final NetBackend backend;
    private final ByteBuffer txBuffer = ByteBuffer.allocateDirect(MAX_FRAME);
    private volatile boolean linkUp = true;
    /** The rx path failed (NEEDS_RESET if a driver ran): frames are dropped until a reset or DRIVER_OK. */
    private boolean rxFailed;

    public NetDevice(String name, byte[] mac, NetBackend backend) {
        super("rx_packets", "rx_bytes", "rx_dropped", "rx_errors", "tx_packets", "tx_bytes", "tx_errors");
        if (mac.length != 6) {
            throw new IllegalArgumentException("a MAC has 6 bytes");
        }
        this.name = name;
        this.mac = mac.clone();
        this.backend = backend;
        backend.start(this);
    }

    @Override
    public int deviceType() {
        return TYPE_NET;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long features() {
        long f = VirtioFeatures.bit(F_MAC) | VirtioFeatures.bit(F_STATUS);
        if (backend.offloadCapable()) {
            for (int b : new int[] {F_CSUM, F_GUEST_CSUM, F_GUEST_TSO4, F_GUEST_TSO6, F_GUEST_ECN, F_HOST_TSO4, F_HOST_TSO6, F_HOST_ECN}) {
                f |= VirtioFeatures.bit(b);
            }
        }
        return f;
    }

    @Override
    public int queueCount() {
        return 2;
    }

    @Override
    public long maxChainBytes(int index) {
        // Without mergeable rx buffers, a GSO-capable Linux guest posts "big" rx chains of a
        // header and MAX_SKB_FRAGS (17) pages: about 72 KiB.
        return index == RX ? 256 * 1024 : MAX_FRAME + 4096;
    }

    @Override
    public void readConfig(int offset, byte[] data) {
        byte[] cfg = new byte[8];
        System.arraycopy(mac, 0, cfg, 0, 6);
        cfg[6] = (byte) (linkUp ? S_LINK_UP : 0);
        MmioTransport.readConfigBytes(cfg, offset, data);
    }

    /** Link up or down, as the guest sees it in config space (with a config interrupt). */
    public void setLinkUp(boolean up) {
        DeviceContext c;
        synchronized (this) {
            linkUp = up;
            c = context;
        }
        if (c != null) {
            c.signals().configChanged();
        }
    }

    @Override
    protected void started(DeviceContext context) {
        int tun = 0;
        if (context.negotiated(F_GUEST_CSUM)) {
            tun |= Tap.TUN_F_CSUM;
            if (context.negotiated(F_GUEST_TSO4)) {
                tun |= Tap.TUN_F_TSO4;
            }
            if (context.negotiated(F_GUEST_TSO6)) {
                tun |= Tap.TUN_F_TSO6;
            }
            if (context.negotiated(F_GUEST_ECN)) {
                tun |= Tap.TUN_F_TSO_ECN;
            }
        }
        backend.setGuestOffloads(tun); // so the host sends only what the guest can take
        rxFailed = false; // a failure before this had no driver to tell: rx tries afresh
        notifyAll();
    }

    @Override
    protected void stopped() {
        rxFailed = false;
        notifyAll(); // a receiver waiting for buffers drops its frame now
    }

    @Override
    public synchronized void queueNotify(int index) {
        if (context == null) {
            return;
        }
        if (index == TX) {
            transmit();
        } else if (index == RX) {
            notifyAll(); // a receiver waiting for buffers can go on
        }
    }

    private void transmit() {
        context.drain(TX, this::sendFrame);
    }

    /** Writes one frame to the backend; a tx chain is returned with nothing written into it. */
    private long sendFrame(DescriptorChain chain) {
        long len = chain.readableBytes();
        if (len <= HEADER_SIZE || len > MAX_FRAME) {
            metrics.increment("tx_errors");
            return 0;
        }
        txBuffer.clear();
        DescriptorChain.Reader in = chain.reader();
        ByteBuffer v;
        while ((v = in.next(txBuffer.remaining())) != null) {
            txBuffer.put(v);
        }
        txBuffer.flip();
        try {
            backend.send(txBuffer);
            metrics.increment("tx_packets");
            metrics.add("tx_bytes", len - HEADER_SIZE);
        } catch (IOException e) {
            metrics.increment("tx_errors");
        }
        return 0;
    }

    /**
     * Puts one frame from the host (virtio-net header first) into the guest's next rx buffer.
     * Returns false when the guest has no buffer ready: the caller keeps the frame and waits.
     * Frames the guest cannot take at all (too big for its buffers, device not started) are
     * dropped and counted.
     */
    public synchronized boolean receive(ByteBuffer frame) {
        if (context == null || rxFailed) {
            metrics.increment("rx_dropped");
            return true;
        }
        Virtqueue rx = context.queues().get(RX);
        try {
            // Only pop() looks at the ring: when it is empty, pop() publishes avail_event first
            // (EVENT_IDX), so the driver's next refill notifies rx and wakes the waiting reader.
            DescriptorChain chain = rx.pop();
            if (chain == null) {
                return false;
            }
            int len = frame.remaining();
            if (chain.writableBytes() < len || len < HEADER_SIZE) {
                metrics.increment("rx_dropped");
                rx.addUsed(chain.head(), 0);
            } else {
                // num_buffers (header bytes 10-11) is 1: a frame always fits in one chain here.
                frame.put(frame.position() + 10, (byte) 1);
                frame.put(frame.position() + 11, (byte) 0);
                DescriptorChain.Writer out = chain.writer();
                ByteBuffer src = frame.duplicate();
                while (src.hasRemaining()) {
                    ByteBuffer v = out.next(src.remaining());
                    int n = v.remaining();
                    ByteBuffer part = src.slice(src.position(), n);
                    v.put(part);
                    src.position(src.position() + n);
                }
                rx.addUsed(chain.head(), len);
                metrics.increment("rx_packets");
                metrics.add("rx_bytes", len - HEADER_SIZE);
            }
            context.signals().usedBuffers(rx);
        } catch (VirtqueueException e) {
            context.signals().deviceError("rx queue: " + e.getMessage());
        }
        return true;
    }

    /**
     * {@link #receive}, and while the guest has no buffer, waits for what can change that: its rx
     * notify, DRIVER_OK, a reset (the frame is then dropped), or a stop ({@code keepWaiting}
     * false, then {@link #wakeReceivers}). Returns whether the frame was taken; false only when
     * told to stop. Checking and waiting under one hold of the monitor means none of these can
     * be missed, so the wait has no timeout.
     */
    public synchronized boolean receiveOrWait(ByteBuffer frame, BooleanSupplier keepWaiting) throws InterruptedException {
        while (!receive(frame)) {
            if (!keepWaiting.getAsBoolean()) {
                return false;
            }
            wait();
        }
        return true;
    }

    /** Wakes a receiver waiting for buffers (the backend is closing). */
    public synchronized void wakeReceivers() {
        notifyAll();
    }

    /**
     * The backend's receive path threw: the guest's rx ring is in a state the device cannot use,
     * or the backend broke. The device goes to NEEDS_RESET and drops frames until it is reset.
     */
    public void rxFailed(Throwable t) {
        DeviceContext c;
        synchronized (this) {
            metrics.increment("rx_errors");
            boolean first = !rxFailed;
            rxFailed = true; // with no driver running too: the reader then waits for DRIVER_OK
            c = context;
            if (c == null || !first) {
                return;
            }
        }
        c.signals().deviceError("rx: " + t);
    }

    /**
     * Waits while the rx path is failed: until the driver resets the device, or starts it if
     * none was running, or {@code keepWaiting} turns false (then {@link #wakeReceivers}).
     */
    public synchronized void awaitRecovery(BooleanSupplier keepWaiting) throws InterruptedException {
        while (rxFailed && keepWaiting.getAsBoolean()) {
            wait();
        }
    }

    @Override
    public void close() {
        backend.close();
    }
}
