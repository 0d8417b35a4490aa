package dev.jvmm.devices.virtio;

import dev.jvmm.vmm.memory.HeapGuestMemory;
import dev.jvmm.vmm.memory.MemoryRegion;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Guest RAM as x86 lays it out around the PCI hole: the last 64 KiB below 3 GiB and the first
 * 64 KiB from 4 GiB, cut into 4 KiB windows. Chains may use both sides of the hole and cross
 * window edges; no buffer, ring or indirect table may reach into the hole or wrap 2^64.
 */
class VirtqueueMemoryHoleTest {
    static final long LOW_END = 3L << 30;
    static final long LOW = LOW_END - 0x10000;
    static final long HIGH = 4L << 30;
    static final int WINDOW = 4096;
    static final int SIZE = 8;
    static final long DESC = LOW;
    static final long AVAIL = LOW + WINDOW - 10; // its used_event lies past the window edge
    static final long USED = LOW + 2L * WINDOW - 8; // entry 0 straddles a window edge

    HeapGuestMemory memory;
    Virtqueue queue;
    int availIdx;
    int nextDesc;

    @BeforeEach
    void setUp() {
        memory = HeapGuestMemory.withWindowSize(List.of(new MemoryRegion(LOW, 0x10000), new MemoryRegion(HIGH, 0x10000)), WINDOW);
        queue = new Virtqueue(memory, SIZE, 1 << 20);
        queue.setSize(SIZE);
        queue.setDescTable(DESC);
        queue.setAvailRing(AVAIL);
        queue.setUsedRing(USED);
        assertNull(queue.enable());
        queue.setFeatures(VirtioFeatures.TRANSPORT);
    }

    /** Descriptor {@code i}; links to i + 1 when {@code next}. */
    private void desc(int i, long addr, int len, int flags) {
        long d = DESC + 16L * i;
        memory.write64(d, addr);
        memory.write32(d + 8, len & 0xffffffffL);
        memory.write16(d + 12, flags);
        memory.write16(d + 14, i + 1);
    }

    /** A chain of (addr, len, flags) triples from the next free descriptor, published. */
    private int publish(long[]... segs) {
        int head = nextDesc;
        for (int i = 0; i < segs.length; i++) {
            int flags = (int) segs[i][2] | (i + 1 < segs.length ? Virtqueue.DESC_F_NEXT : 0);
            desc(head + i, segs[i][0], (int) segs[i][1], flags);
        }
        nextDesc += segs.length;
        memory.write16(AVAIL + 4 + 2L * (availIdx % SIZE), head);
        availIdx++;
        memory.write16(AVAIL + 2, availIdx);
        return head;
    }

    private static long[] ro(long addr, long len) {
        return new long[] {addr, len, 0};
    }

    private static long[] rw(long addr, long len) {
        return new long[] {addr, len, Virtqueue.DESC_F_WRITE};
    }

    private static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (seed + i * 7);
        }
        return b;
    }

    @Test
    void aChainUsesBothSidesOfTheHoleAndCrossesWindowEdges() throws Exception {
        byte[] below = pattern(100, 1);
        byte[] above = pattern(300, 2);
        memory.write(LOW_END - below.length, below); // ends exactly at 3 GiB
        memory.write(HIGH + WINDOW - 150, above); // crosses a window edge
        int head = publish(ro(LOW_END - below.length, below.length), ro(HIGH + WINDOW - 150, above.length),
                rw(HIGH + 3L * WINDOW - 20, 40), rw(LOW_END - 30, 30));
        DescriptorChain c = queue.pop();
        assertEquals(head, c.head());
        DescriptorChain.Reader r = c.reader();
        ByteBuffer first = r.next(1000);
        assertEquals(below.length, first.remaining(), "a view stops at the end of its segment");
        ByteBuffer second = r.next(1000);
        assertEquals(150, second.remaining(), "and at a window edge");
        byte[] rest = new byte[150];
        r.readFully(rest);
        assertArrayEquals(Arrays.copyOfRange(above, 150, 300), rest);
        byte[] out = pattern(70, 3);
        assertEquals(70, c.writer().write(out, 0, out.length));
        assertArrayEquals(Arrays.copyOfRange(out, 0, 40), memory.read(HIGH + 3L * WINDOW - 20, 40));
        assertArrayEquals(Arrays.copyOfRange(out, 40, 70), memory.read(LOW_END - 30, 30));
        queue.addUsed(head, 70);
        assertEquals(1, memory.read16(USED + 2));
        assertEquals(head, memory.read32(USED + 4), "the straddling used entry reads back");
        assertEquals(70, memory.read32(USED + 8));
    }

    @Test
    void buffersReachingIntoTheHoleOrWrappingAreRefused() {
        long[][] hostile = {
            ro(LOW_END - 8, 16), // runs off the end of low RAM
            ro(LOW_END, 1), // starts in the hole
            ro(HIGH - 1, 2), // starts in the hole, ends in high RAM
            ro(LOW, 0x10000 + 1), // one byte too long
            ro(HIGH + 0x10000 - 4, 8), // past the end of high RAM
            ro(-16, 32), // wraps 2^64
            rw(0xffffffffffffff00L, 0x100), // ends exactly at 2^64
        };
        for (long[] seg : hostile) {
            setUp();
            availIdx = nextDesc = 0;
            publish(seg);
            VirtqueueException e = assertThrows(VirtqueueException.class, queue::pop, Long.toHexString(seg[0]));
            assertTrue(e.getMessage().contains("outside guest RAM"), e.getMessage());
        }
    }

    @Test
    void ringsThatReachIntoTheHoleAreNotEnabled() {
        Virtqueue q = new Virtqueue(memory, SIZE, 1 << 20);
        q.setSize(SIZE);
        q.setDescTable(LOW_END - 64); // 8 descriptors are 128 bytes
        q.setAvailRing(AVAIL);
        q.setUsedRing(USED);
        assertTrue(q.enable().contains("outside guest RAM"));
        q.setDescTable(DESC);
        q.setUsedRing(LOW_END - 8);
        assertTrue(q.enable().contains("outside guest RAM"));
        q.setUsedRing(HIGH);
        q.setAvailRing(HIGH - 2);
        assertTrue(q.enable().contains("outside guest RAM"));
        q.setAvailRing(HIGH + 0x10000 - 16);
        assertTrue(q.enable().contains("outside guest RAM"), "22 bytes do not fit in the last 16");
        q.setAvailRing(HIGH + 0x100);
        assertNull(q.enable(), "rings in high RAM are fine");
    }

    @Test
    void indirectTablesMayCrossAWindowButNotTheHole() throws Exception {
        long table = HIGH + WINDOW - 24; // three entries across a window edge
        byte[] payload = pattern(64, 4);
        memory.write(LOW_END - 64, payload);
        long[][] entries = {ro(LOW_END - 64, 32), ro(LOW_END - 32, 32), rw(HIGH + 0x8000, 16)};
        for (int i = 0; i < entries.length; i++) {
            long d = table + 16L * i;
            memory.write64(d, entries[i][0]);
            memory.write32(d + 8, entries[i][1]);
            memory.write16(d + 12, (int) entries[i][2] | (i + 1 < entries.length ? Virtqueue.DESC_F_NEXT : 0));
            memory.write16(d + 14, i + 1);
        }
        publish(new long[] {table, 48, Virtqueue.DESC_F_INDIRECT});
        DescriptorChain c = queue.pop();
        assertNotNull(c);
        byte[] got = new byte[64];
        c.reader().readFully(got);
        assertArrayEquals(payload, got);
        assertEquals(16, c.writableBytes());

        publish(new long[] {LOW_END - 16, 32, Virtqueue.DESC_F_INDIRECT});
        VirtqueueException e = assertThrows(VirtqueueException.class, queue::pop);
        assertTrue(e.getMessage().contains("outside guest RAM"), e.getMessage());
    }
}
