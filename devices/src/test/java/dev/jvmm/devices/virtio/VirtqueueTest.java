package dev.jvmm.devices.virtio;

import dev.jvmm.vmm.memory.GuestMemory;
import dev.jvmm.vmm.memory.HeapGuestMemory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Chain validation, one hostile layout at a time, straight on a {@link Virtqueue}. */
class VirtqueueTest {
    static final long RAM = 1 << 20;
    static final long ALL = VirtioFeatures.TRANSPORT;
    HeapGuestMemory memory;
    Virtqueue queue;
    VirtqueueDriver driver;

    @BeforeEach
    void setUp() {
        memory = GuestMemory.heap(RAM);
        driver = new VirtqueueDriver(memory, 0x1000, 16, 0x20000, 0x10000);
        queue = newQueue(1 << 20);
    }

    private Virtqueue newQueue(long maxChain) {
        Virtqueue q = new Virtqueue(memory, 16, maxChain);
        q.setSize(16);
        q.setDescTable(driver.descTable());
        q.setAvailRing(driver.availRing());
        q.setUsedRing(driver.usedRing());
        assertNull(q.enable());
        q.setFeatures(ALL);
        return q;
    }

    private void rejects(String fragment, Consumer<VirtqueueDriver> layout) {
        layout.accept(driver);
        VirtqueueException e = assertThrows(VirtqueueException.class, () -> queue.pop());
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
        assertTrue(queue.isBroken());
        assertNull(assertDoesNotThrow(() -> queue.pop()), "a broken queue yields nothing more");
    }

    private static <T> T assertDoesNotThrow(org.junit.jupiter.api.function.ThrowingSupplier<T> s) {
        return org.junit.jupiter.api.Assertions.assertDoesNotThrow(s);
    }

    @Test
    void readsAChainInOrderReadableThenWritable() throws Exception {
        var head = driver.add(driver.readable(new byte[] {1, 2, 3}), driver.readable(new byte[] {4}), driver.writable(10));
        DescriptorChain c = queue.pop();
        assertEquals(head, c.head());
        assertEquals(4, c.readableBytes());
        assertEquals(10, c.writableBytes());
        byte[] got = new byte[4];
        c.reader().readFully(got);
        assertArrayEquals(new byte[] {1, 2, 3, 4}, got);
        assertNull(queue.pop());
    }

    @Test
    void indirectTablesAreFollowed() throws Exception {
        driver.publish(driver.indirect(driver.readable(new byte[] {9, 8}), driver.writable(4)));
        DescriptorChain c = queue.pop();
        assertEquals(2, c.readableBytes());
        assertEquals(4, c.writableBytes());
        assertEquals(4, c.writer().write(new byte[] {1, 1, 1, 1, 1}, 0, 5));
    }

    @Test
    void headOutOfRange() {
        rejects("head descriptor 16", d -> d.publish(16));
    }

    @Test
    void nextOutOfRange() {
        rejects("next descriptor 40", d -> {
            d.rawDescriptor(0, 0x20000, 8, Virtqueue.DESC_F_NEXT, 40);
            d.publish(0);
        });
    }

    @Test
    void loop() {
        rejects("loops", d -> {
            d.rawDescriptor(0, 0x20000, 8, Virtqueue.DESC_F_NEXT, 1);
            d.rawDescriptor(1, 0x20000, 8, Virtqueue.DESC_F_NEXT, 0);
            d.publish(0);
        });
    }

    @Test
    void bufferOutsideRam() {
        rejects("outside guest RAM", d -> {
            d.rawDescriptor(0, RAM - 4, 8, 0, 0);
            d.publish(0);
        });
    }

    @Test
    void addressThatWrapsAround() {
        rejects("outside guest RAM", d -> {
            d.rawDescriptor(0, -16L, 32, Virtqueue.DESC_F_WRITE, 0);
            d.publish(0);
        });
    }

    @Test
    void readableAfterWritable() {
        rejects("follows a device-writable", d -> d.add(d.writable(4), d.readable(new byte[4])));
    }

    @Test
    void oversizedChain() {
        queue = newQueue(1000);
        rejects("longer than 1000 bytes", d -> {
            d.rawDescriptor(0, 0x20000, 600, Virtqueue.DESC_F_NEXT, 1);
            d.rawDescriptor(1, 0x20000, 600, 0, 0); // the same bytes twice still count twice
            d.publish(0);
        });
    }

    @Test
    void hugeLengthsDoNotOverflow() {
        rejects("longer than", d -> {
            for (int i = 0; i < 15; i++) {
                d.rawDescriptor(i, 0, -1, Virtqueue.DESC_F_NEXT, i + 1); // 4 GiB - 1 each
            }
            d.rawDescriptor(15, 0, -1, 0, 0);
            d.publish(0);
        });
    }

    @Test
    void availIndexRunsAhead() {
        rejects("more than the queue size ahead", d -> d.setAvailIndex(17));
    }

    @Test
    void indirectLoopNestedAndBadLength() {
        rejects("indirect chain loops", d -> {
            long t = d.alloc(32);
            memory.write64(t, 0x20000);
            memory.write32(t + 8, 4);
            memory.write16(t + 12, Virtqueue.DESC_F_NEXT);
            memory.write16(t + 14, 1);
            memory.write64(t + 16, 0x20000);
            memory.write32(t + 24, 4);
            memory.write16(t + 28, Virtqueue.DESC_F_NEXT);
            memory.write16(t + 30, 0);
            d.rawDescriptor(0, t, 32, Virtqueue.DESC_F_INDIRECT, 0);
            d.publish(0);
        });
        setUp();
        rejects("nested indirect", d -> {
            long t = d.alloc(16);
            memory.write64(t, 0x20000);
            memory.write32(t + 8, 16);
            memory.write16(t + 12, Virtqueue.DESC_F_INDIRECT);
            d.rawDescriptor(0, t, 16, Virtqueue.DESC_F_INDIRECT, 0);
            d.publish(0);
        });
        setUp();
        rejects("multiple of 16", d -> {
            d.rawDescriptor(0, 0x20000, 20, Virtqueue.DESC_F_INDIRECT, 0);
            d.publish(0);
        });
        setUp();
        rejects("indirect table 0x", d -> {
            d.rawDescriptor(0, RAM - 16, 64, Virtqueue.DESC_F_INDIRECT, 0);
            d.publish(0);
        });
    }

    @Test
    void indirectWithoutTheFeature() {
        queue.setFeatures(VirtioFeatures.bit(VirtioFeatures.VERSION_1));
        rejects("without VIRTIO_F_INDIRECT_DESC", d -> d.publish(d.indirect(d.writable(4))));
    }

    @Test
    void zeroLengthChainIsValidButEmpty() throws Exception {
        driver.rawDescriptor(0, 0, 0, Virtqueue.DESC_F_WRITE, 0);
        driver.publish(0);
        DescriptorChain c = queue.pop();
        assertEquals(0, c.writableBytes());
        assertNull(c.writer().next(100));
    }

    @Test
    void indicesWrapAt65536() throws Exception {
        for (int i = 0; i < 70_000; i++) {
            int head = driver.add(driver.writable(1));
            DescriptorChain c = queue.pop();
            assertEquals(head, c.head());
            queue.addUsed(c.head(), 1);
            assertEquals(head, driver.nextUsed().id());
        }
        assertEquals(70_000 & 0xffff, driver.usedIndex());
    }
}
