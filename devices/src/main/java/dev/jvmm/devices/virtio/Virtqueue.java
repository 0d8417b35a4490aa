package dev.jvmm.devices.virtio;

import dev.jvmm.vmm.memory.GuestMemory;

import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.function.BooleanSupplier;

/**
 * The device side of one split virtqueue (virtio 1.2, 2.7). Every descriptor chain is validated
 * here and nowhere else: head and next indices within the queue, loops cut off by a count,
 * indirect tables checked the same way, every buffer inside guest RAM, readable buffers before
 * writable ones, the total length bounded. A bad chain raises {@link VirtqueueException}.
 * The layout is fixed while the queue is enabled (virtio 1.2, 4.2.2.2), and nothing is taken
 * from or given back to a queue while its device is halted (DEVICE_NEEDS_RESET, 2.1.2).
 */
public final class Virtqueue {
    public static final int DESC_F_NEXT = 1;
    public static final int DESC_F_WRITE = 2;
    public static final int DESC_F_INDIRECT = 4;
    public static final int AVAIL_F_NO_INTERRUPT = 1;
    /** Longest indirect table accepted: Linux uses at most seg_max + 2 entries. */
    public static final int MAX_INDIRECT = 1024;

    private final GuestMemory memory;
    private final int maxSize;
    private final long maxChainBytes;
    private final BooleanSupplier halted;

    // Set by the driver through the transport while the queue is not ready.
    private int size;
    private long descTable;
    private long availRing;
    private long usedRing;
    private boolean ready;

    // Device state once running.
    private boolean eventIdx;
    private boolean indirect;
    private int nextAvail;
    private int nextUsed;
    private int signalledUsed;
    private boolean broken;

    public Virtqueue(GuestMemory memory, int maxSize, long maxChainBytes) {
        this(memory, maxSize, maxChainBytes, () -> false);
    }

    /** {@code halted} says when the device needs a reset: the queue then yields and takes nothing. */
    public Virtqueue(GuestMemory memory, int maxSize, long maxChainBytes, BooleanSupplier halted) {
        if (Integer.bitCount(maxSize) != 1 || maxSize > 32768) {
            throw new IllegalArgumentException("queue size must be a power of two up to 32768");
        }
        this.memory = memory;
        this.maxSize = maxSize;
        this.maxChainBytes = maxChainBytes;
        this.halted = halted;
        reset();
    }

    /** Back to the state after a device reset: not ready, addresses and indices zero. */
    public synchronized void reset() {
        size = maxSize;
        descTable = availRing = usedRing = 0;
        ready = false;
        nextAvail = nextUsed = signalledUsed = 0;
        broken = false;
    }

    public int maxSize() {
        return maxSize;
    }

    public synchronized int size() {
        return size;
    }

    /**
     * The driver's QueueNum: ignored while enabled; false (and remembered, so that
     * {@link #enable()} refuses it) unless a power of two in [1, maxSize].
     */
    public synchronized boolean setSize(int size) {
        if (ready) {
            return false;
        }
        this.size = size;
        return validSize(size);
    }

    private boolean validSize(int n) {
        return n > 0 && n <= maxSize && Integer.bitCount(n) == 1;
    }

    /** The ring addresses: each ignored (false) while the queue is enabled. */
    public synchronized boolean setDescTable(long gpa) {
        if (!ready) {
            descTable = gpa;
        }
        return !ready;
    }

    public synchronized boolean setAvailRing(long gpa) {
        if (!ready) {
            availRing = gpa;
        }
        return !ready;
    }

    public synchronized boolean setUsedRing(long gpa) {
        if (!ready) {
            usedRing = gpa;
        }
        return !ready;
    }

    public synchronized long descTable() {
        return descTable;
    }

    public synchronized long availRing() {
        return availRing;
    }

    public synchronized long usedRing() {
        return usedRing;
    }

    public synchronized boolean isReady() {
        return ready && !broken;
    }

    /** The driver's QueueReady as last accepted: true from a valid enable until disable or reset, broken or not. */
    public synchronized boolean isEnabled() {
        return ready;
    }

    /** Whether the device may use the queue now: enabled, not broken, the device not halted. */
    private boolean live() {
        return ready && !broken && !halted.getAsBoolean();
    }

    /** True once a bad chain was seen: the queue is dead until reset. */
    public synchronized boolean isBroken() {
        return broken;
    }

    /**
     * The driver's QueueReady = 1. Returns why the layout cannot be used, or null when it can:
     * a size that is no power of two or too large, misaligned rings, rings outside guest RAM.
     */
    public synchronized String enable() {
        String problem = layoutProblem();
        ready = problem == null;
        return problem;
    }

    public synchronized void disable() {
        ready = false;
    }

    private String layoutProblem() {
        if (!validSize(size)) {
            return "queue size " + size + " is not a power of two in [1, " + maxSize + "]";
        }
        if ((descTable & 15) != 0 || (availRing & 1) != 0 || (usedRing & 3) != 0) {
            return "queue rings are misaligned";
        }
        if (!memory.contains(descTable, 16L * size) || !memory.contains(availRing, 6 + 2L * size)
                || !memory.contains(usedRing, 6 + 8L * size)) {
            return "queue rings lie outside guest RAM";
        }
        return null;
    }

    /** Called at DRIVER_OK with what was negotiated. */
    public synchronized void setFeatures(long negotiated) {
        eventIdx = VirtioFeatures.has(negotiated, VirtioFeatures.RING_EVENT_IDX);
        indirect = VirtioFeatures.has(negotiated, VirtioFeatures.RING_INDIRECT_DESC);
    }

    /**
     * The next chain the driver made available, or null when there is none. With EVENT_IDX the
     * device tells the driver where to notify next before it decides the ring is empty, and then
     * looks once more ({@link #armAvailEvent}), so a buffer added meanwhile is never missed.
     * While the device finds buffers, avail_event stays where it was and the driver need not
     * notify (vhost's way): a device only waits after a pop that came back empty.
     */
    public synchronized DescriptorChain pop() throws VirtqueueException {
        if (!live()) {
            return null;
        }
        try {
            int availIdx = availIndex();
            if (availIdx == nextAvail) {
                if (!eventIdx || !armAvailEvent()) {
                    return null;
                }
                availIdx = availIndex();
            }
            if (((availIdx - nextAvail) & 0xffff) > size) {
                throw new VirtqueueException("avail index " + availIdx + " is more than the queue size ahead of " + nextAvail);
            }
            VarHandle.acquireFence(); // the ring entry and descriptors are read after the index
            int head = memory.read16(availRing + 4 + 2L * (nextAvail % size));
            nextAvail = (nextAvail + 1) & 0xffff;
            return parse(head);
        } catch (VirtqueueException e) {
            broken = true;
            throw e;
        }
    }

    /**
     * With EVENT_IDX, the device is about to wait for buffers: publishes avail_event = the next
     * index it will take, so the driver's next add notifies (vring_need_event), then looks at the
     * avail index again after a full fence. True when buffers came meanwhile: the driver may have
     * read the old avail_event and not notified, so the device must take them now rather than
     * wait (Linux's vhost_enable_notify). The driver writes its index, fences, then reads
     * avail_event: one side always sees the other's write.
     */
    synchronized boolean armAvailEvent() {
        memory.write16(usedRing + 4 + 8L * size, nextAvail); // avail_event
        VarHandle.fullFence();
        return availIndex() != nextAvail;
    }

    private int availIndex() {
        return memory.read16(availRing + 2);
    }

    private DescriptorChain parse(int head) throws VirtqueueException {
        if (head >= size) {
            throw new VirtqueueException("head descriptor " + head + " is outside a queue of " + size);
        }
        Segments segs = new Segments();
        int index = head;
        int count = 0;
        while (true) {
            if (++count > size) {
                throw new VirtqueueException("descriptor chain from " + head + " loops or is longer than the queue");
            }
            long d = descTable + 16L * index;
            long addr = memory.read64(d);
            long len = memory.read32(d + 8);
            int flags = memory.read16(d + 12);
            int next = memory.read16(d + 14);
            if ((flags & DESC_F_INDIRECT) != 0) {
                if (!indirect) {
                    throw new VirtqueueException("indirect descriptor without VIRTIO_F_INDIRECT_DESC");
                }
                if ((flags & DESC_F_NEXT) != 0 || count != 1) {
                    throw new VirtqueueException("an indirect descriptor must be the chain's only one");
                }
                parseIndirect(addr, len, segs);
                break;
            }
            segs.add(addr, len, (flags & DESC_F_WRITE) != 0);
            if ((flags & DESC_F_NEXT) == 0) {
                break;
            }
            if (next >= size) {
                throw new VirtqueueException("next descriptor " + next + " is outside a queue of " + size);
            }
            index = next;
        }
        return segs.chain(head);
    }

    private void parseIndirect(long table, long len, Segments segs) throws VirtqueueException {
        if (len == 0 || len % 16 != 0 || len / 16 > MAX_INDIRECT) {
            throw new VirtqueueException("indirect table of " + len + " bytes (need a multiple of 16, at most " + MAX_INDIRECT + " entries)");
        }
        int entries = (int) (len / 16);
        if (!memory.contains(table, len)) {
            throw new VirtqueueException(String.format("indirect table 0x%x+%d lies outside guest RAM", table, len));
        }
        int index = 0;
        int count = 0;
        while (true) {
            if (++count > entries) {
                throw new VirtqueueException("indirect chain loops");
            }
            long d = table + 16L * index;
            int flags = memory.read16(d + 12);
            if ((flags & DESC_F_INDIRECT) != 0) {
                throw new VirtqueueException("nested indirect table");
            }
            segs.add(memory.read64(d), memory.read32(d + 8), (flags & DESC_F_WRITE) != 0);
            if ((flags & DESC_F_NEXT) == 0) {
                return;
            }
            index = memory.read16(d + 14);
            if (index >= entries) {
                throw new VirtqueueException("indirect next " + index + " is outside a table of " + entries);
            }
        }
    }

    private final class Segments {
        private long[] addrs = new long[8];
        private int[] lens = new int[8];
        private int n;
        private int readable;
        private boolean sawWritable;
        private long total;

        void add(long addr, long len, boolean writable) throws VirtqueueException {
            if (!writable && sawWritable) {
                throw new VirtqueueException("a device-readable buffer follows a device-writable one");
            }
            total += len;
            if (total > maxChainBytes) {
                throw new VirtqueueException("chain is longer than " + maxChainBytes + " bytes");
            }
            if (len > 0 && !memory.contains(addr, len)) {
                throw new VirtqueueException(String.format("buffer 0x%x+%d lies outside guest RAM", addr, len));
            }
            if (n == addrs.length) {
                addrs = Arrays.copyOf(addrs, n * 2);
                lens = Arrays.copyOf(lens, n * 2);
            }
            addrs[n] = addr;
            lens[n] = (int) len;
            n++;
            if (writable) {
                sawWritable = true;
            } else {
                readable++;
            }
        }

        DescriptorChain chain(int head) {
            return new DescriptorChain(memory, head, Arrays.copyOf(addrs, n), Arrays.copyOf(lens, n), readable);
        }
    }

    /** Returns a chain to the driver with {@code writtenBytes} of it filled in. */
    public synchronized void addUsed(int head, long writtenBytes) {
        if (!live()) {
            return; // reset, or the device needs one, while it worked on the chain: nothing goes back
        }
        long entry = usedRing + 4 + 8L * (nextUsed % size);
        memory.write32(entry, head);
        memory.write32(entry + 4, writtenBytes);
        VarHandle.releaseFence(); // the entry is visible before the index that publishes it
        nextUsed = (nextUsed + 1) & 0xffff;
        memory.write16(usedRing + 2, nextUsed);
    }

    /**
     * Whether the driver wants an interrupt for what was used since the last one: its used_event
     * with EVENT_IDX (virtio's vring_need_event), else the avail ring's NO_INTERRUPT flag.
     */
    public synchronized boolean needsInterrupt() {
        if (!live()) {
            return false;
        }
        VarHandle.fullFence();
        int old = signalledUsed;
        signalledUsed = nextUsed;
        if (eventIdx) {
            int usedEvent = memory.read16(availRing + 4 + 2L * size);
            return ((nextUsed - usedEvent - 1) & 0xffff) < ((nextUsed - old) & 0xffff);
        }
        return (memory.read16(availRing) & AVAIL_F_NO_INTERRUPT) == 0 && old != nextUsed;
    }

    /** Chains the driver has made available and the device has not yet taken (for tests and metrics). */
    public synchronized int pending() {
        if (!live()) {
            return 0;
        }
        return (availIndex() - nextAvail) & 0xffff;
    }
}
