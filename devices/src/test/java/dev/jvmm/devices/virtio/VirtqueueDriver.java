package dev.jvmm.devices.virtio;

import dev.jvmm.vmm.memory.GuestMemory;

/**
 * The driver's side of a split virtqueue, laid out in {@link GuestMemory} the way Linux's
 * virtio_ring does it, so devices are tested without KVM or a guest. It can also write raw,
 * hostile descriptors. Buffers come from a bump allocator in a data area the caller names.
 */
public final class VirtqueueDriver {
    /** A guest buffer: readable by the device, or writable by it. */
    public record Buf(long addr, int len, boolean writable) {}

    /** One used-ring entry. */
    public record Used(int id, int len) {}

    private final GuestMemory memory;
    private final int size;
    private final long desc;
    private final long avail;
    private final long used;
    private final long dataStart;
    private final long dataEnd;
    private long dataNext;
    private int nextDesc;
    private int availIdx;
    private int lastUsed;

    /** Rings at {@code base} (needs about 16 KiB for 256 entries), buffers in [dataStart, dataStart+dataSize). */
    public VirtqueueDriver(GuestMemory memory, long base, int size, long dataStart, long dataSize) {
        this.memory = memory;
        this.size = size;
        this.desc = base;
        this.avail = base + 16L * size;
        this.used = align(avail + 6 + 2L * size, 4096);
        this.dataStart = dataStart;
        this.dataEnd = dataStart + dataSize;
        this.dataNext = dataStart;
        memory.fill(desc, used + 6 + 8L * size - desc, (byte) 0);
    }

    private static long align(long v, long a) {
        return (v + a - 1) & -a;
    }

    public int size() {
        return size;
    }

    public long descTable() {
        return desc;
    }

    public long availRing() {
        return avail;
    }

    public long usedRing() {
        return used;
    }

    /** Lays this queue out on the transport's queue {@code index}, as virtio_mmio's setup does. */
    public void attach(MmioTransport t, int index) {
        reg(t, MmioTransport.REG_QUEUE_SEL, index);
        reg(t, MmioTransport.REG_QUEUE_NUM, size);
        reg(t, MmioTransport.REG_QUEUE_DESC_LOW, (int) desc);
        reg(t, MmioTransport.REG_QUEUE_DESC_HIGH, (int) (desc >>> 32));
        reg(t, MmioTransport.REG_QUEUE_DRIVER_LOW, (int) avail);
        reg(t, MmioTransport.REG_QUEUE_DRIVER_HIGH, (int) (avail >>> 32));
        reg(t, MmioTransport.REG_QUEUE_DEVICE_LOW, (int) used);
        reg(t, MmioTransport.REG_QUEUE_DEVICE_HIGH, (int) (used >>> 32));
        reg(t, MmioTransport.REG_QUEUE_READY, 1);
    }

    /** ACKNOWLEDGE, DRIVER, the driver's features (all offered ones that {@code wanted} has), FEATURES_OK. */
    public static long negotiate(MmioTransport t, long wanted) {
        reg(t, MmioTransport.REG_STATUS, MmioTransport.STATUS_ACKNOWLEDGE);
        reg(t, MmioTransport.REG_STATUS, MmioTransport.STATUS_ACKNOWLEDGE | MmioTransport.STATUS_DRIVER);
        reg(t, MmioTransport.REG_DEVICE_FEATURES_SEL, 0);
        long offered = readReg(t, MmioTransport.REG_DEVICE_FEATURES) & 0xffffffffL;
        reg(t, MmioTransport.REG_DEVICE_FEATURES_SEL, 1);
        offered |= (readReg(t, MmioTransport.REG_DEVICE_FEATURES) & 0xffffffffL) << 32;
        long take = offered & wanted;
        reg(t, MmioTransport.REG_DRIVER_FEATURES_SEL, 0);
        reg(t, MmioTransport.REG_DRIVER_FEATURES, (int) take);
        reg(t, MmioTransport.REG_DRIVER_FEATURES_SEL, 1);
        reg(t, MmioTransport.REG_DRIVER_FEATURES, (int) (take >>> 32));
        reg(t, MmioTransport.REG_STATUS, MmioTransport.STATUS_ACKNOWLEDGE | MmioTransport.STATUS_DRIVER
                | MmioTransport.STATUS_FEATURES_OK);
        return take;
    }

    public static void driverOk(MmioTransport t) {
        reg(t, MmioTransport.REG_STATUS, MmioTransport.STATUS_ACKNOWLEDGE | MmioTransport.STATUS_DRIVER
                | MmioTransport.STATUS_FEATURES_OK | MmioTransport.STATUS_DRIVER_OK);
    }

    public static void reg(MmioTransport t, int offset, int value) {
        byte[] b = new byte[4];
        for (int i = 0; i < 4; i++) {
            b[i] = (byte) (value >>> (8 * i));
        }
        t.write(offset, b);
    }

    public static int readReg(MmioTransport t, int offset) {
        byte[] b = new byte[4];
        t.read(offset, b);
        return (b[0] & 0xff) | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16 | (b[3] & 0xff) << 24;
    }

    /** The driver's QueueNotify write. */
    public void kick(MmioTransport t, int index) {
        reg(t, MmioTransport.REG_QUEUE_NOTIFY, index);
    }

    // ---------------------------------------------------------------- buffers

    public long alloc(int len) {
        long a = align(dataNext, 16);
        if (a + len > dataEnd) {
            a = dataStart; // wrap: tests keep few buffers in flight
            if (a + len > dataEnd) {
                throw new IllegalArgumentException("data area too small for " + len + " bytes");
            }
        }
        dataNext = a + len;
        return a;
    }

    public Buf readable(byte[] content) {
        long a = alloc(content.length);
        memory.write(a, content);
        return new Buf(a, content.length, false);
    }

    public Buf writable(int len) {
        long a = alloc(len);
        memory.fill(a, len, (byte) 0xA5); // so a test sees what the device did not write
        return new Buf(a, len, true);
    }

    public byte[] contents(Buf b) {
        return memory.read(b.addr(), b.len());
    }

    // ---------------------------------------------------------------- descriptors

    /** Writes descriptor {@code i} exactly as given: the tool for hostile tests. */
    public void rawDescriptor(int i, long addr, int len, int flags, int next) {
        long d = desc + 16L * i;
        memory.write64(d, addr);
        memory.write32(d + 8, len & 0xffffffffL);
        memory.write16(d + 12, flags);
        memory.write16(d + 14, next);
    }

    /** Chains {@code bufs} through the descriptor table; returns the head. */
    public int chain(Buf... bufs) {
        int head = nextDesc;
        for (int i = 0; i < bufs.length; i++) {
            int me = (head + i) % size;
            int next = (me + 1) % size;
            int flags = (bufs[i].writable() ? Virtqueue.DESC_F_WRITE : 0) | (i + 1 < bufs.length ? Virtqueue.DESC_F_NEXT : 0);
            rawDescriptor(me, bufs[i].addr(), bufs[i].len(), flags, next);
        }
        nextDesc = (head + bufs.length) % size;
        return head;
    }

    /** Puts {@code bufs} in an indirect table; one descriptor in the ring points at it. */
    public int indirect(Buf... bufs) {
        long table = alloc(16 * bufs.length);
        for (int i = 0; i < bufs.length; i++) {
            long d = table + 16L * i;
            memory.write64(d, bufs[i].addr());
            memory.write32(d + 8, bufs[i].len());
            memory.write16(d + 12, (bufs[i].writable() ? Virtqueue.DESC_F_WRITE : 0) | (i + 1 < bufs.length ? Virtqueue.DESC_F_NEXT : 0));
            memory.write16(d + 14, i + 1);
        }
        int head = nextDesc;
        rawDescriptor(head, table, 16 * bufs.length, Virtqueue.DESC_F_INDIRECT, 0);
        nextDesc = (head + 1) % size;
        return head;
    }

    /** Makes {@code head} available and publishes the new avail index. */
    public void publish(int head) {
        memory.write16(avail + 4 + 2L * (availIdx % size), head);
        availIdx = (availIdx + 1) & 0xffff;
        memory.write16(avail + 2, availIdx);
    }

    /** Chains and publishes in one go. */
    public int add(Buf... bufs) {
        int head = chain(bufs);
        publish(head);
        return head;
    }

    public void setAvailIndex(int idx) {
        availIdx = idx & 0xffff;
        memory.write16(avail + 2, availIdx);
    }

    public void setAvailFlags(int flags) {
        memory.write16(avail, flags);
    }

    /** used_event: the used index after which the driver wants its next interrupt. */
    public void setUsedEvent(int idx) {
        memory.write16(avail + 4 + 2L * size, idx);
    }

    /** avail_event, written by the device. */
    public int availEvent() {
        return memory.read16(used + 4 + 8L * size);
    }

    /**
     * Whether a driver that published up to {@code oldAvail} at its last notify must notify now
     * (Linux's virtqueue_kick_prepare with EVENT_IDX: vring_need_event(avail_event, new, old)).
     */
    public boolean needsKick(int oldAvail) {
        return ((availIdx - availEvent() - 1) & 0xffff) < ((availIdx - oldAvail) & 0xffff);
    }

    /** The avail index published so far. */
    public int availIndex() {
        return availIdx;
    }

    public int usedIndex() {
        return memory.read16(used + 2);
    }

    /** The next used entry, or null when the device has returned nothing new. */
    public Used nextUsed() {
        if (usedIndex() == lastUsed) {
            return null;
        }
        long e = used + 4 + 8L * (lastUsed % size);
        lastUsed = (lastUsed + 1) & 0xffff;
        return new Used((int) memory.read32(e), (int) memory.read32(e + 4));
    }
}
