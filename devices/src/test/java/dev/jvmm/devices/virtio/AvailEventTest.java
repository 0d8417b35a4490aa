package dev.jvmm.devices.virtio;

import dev.jvmm.vmm.memory.GuestMemory;
import dev.jvmm.vmm.memory.HeapGuestMemory;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * VIRTIO_RING_F_EVENT_IDX on the avail side: a device that runs dry publishes avail_event so the
 * driver's next add notifies, and a buffer added while it does so is never stranded, in every
 * order the two sides' steps can take.
 */
class AvailEventTest {
    private final HeapGuestMemory memory = GuestMemory.heap(1 << 20);
    private final VirtqueueDriver driver = new VirtqueueDriver(memory, 0x1000, 16, 0x20000, 0x10000);
    private final Virtqueue queue = new Virtqueue(memory, 16, 1 << 20);

    AvailEventTest() {
        queue.setSize(16);
        queue.setDescTable(driver.descTable());
        queue.setAvailRing(driver.availRing());
        queue.setUsedRing(driver.usedRing());
        assertNull(queue.enable());
        queue.setFeatures(VirtioFeatures.bit(VirtioFeatures.RING_EVENT_IDX));
    }

    private DescriptorChain take() throws VirtqueueException {
        DescriptorChain c = queue.pop();
        if (c != null) {
            queue.addUsed(c.head(), 0);
        }
        return c;
    }

    @Test
    void aDeviceThatRunsDryAsksToBeNotifiedAtTheAvailIndex() throws Exception {
        for (int i = 0; i < 3; i++) {
            driver.add(driver.writable(64));
        }
        for (int i = 0; i < 3; i++) {
            assertNotNull(take());
        }
        assertEquals(0, driver.availEvent(), "while the device finds buffers it does not ask for notifies");
        assertNull(take());
        assertEquals(3, driver.availEvent());
        assertEquals(driver.availIndex(), driver.availEvent(), "no buffer: avail_event = avail idx");
        int old = driver.availIndex();
        driver.add(driver.writable(64));
        assertTrue(driver.needsKick(old), "the refill notifies");
    }

    @Test
    void aBufferAddedBetweenTheCheckAndThePublishIsTakenNotStranded() throws Exception {
        driver.add(driver.writable(64));
        assertNotNull(take()); // the last buffer went; avail_event is still 0, behind
        // Device: looks, and finds the ring empty.
        assertEquals(0, queue.pending());
        // Driver: adds a buffer, reads the old avail_event and (rightly, by it) does not notify.
        int old = driver.availIndex();
        driver.add(driver.writable(64));
        assertFalse(driver.needsKick(old), "the race: this add is never notified");
        // Device: publishes avail_event, and its second look finds the buffer.
        assertTrue(queue.armAvailEvent(), "buffers came while the device was publishing");
        assertNotNull(take(), "so it takes them instead of waiting for a notify that will not come");
    }

    /** The device's steps on its way to waiting: look at the avail index, then publish and look again. */
    private enum Step { DEVICE_LOOKS, DEVICE_PUBLISHES, DRIVER_ADDS, DRIVER_DECIDES }

    @Test
    void inEveryInterleavingTheBufferIsTakenOrTheDriverNotifies() throws Exception {
        List<List<Step>> orders = new ArrayList<>();
        interleave(List.of(Step.DEVICE_LOOKS, Step.DEVICE_PUBLISHES), List.of(Step.DRIVER_ADDS, Step.DRIVER_DECIDES),
                new ArrayList<>(), orders);
        assertEquals(6, orders.size());
        for (boolean eventBehind : new boolean[] {true, false}) {
            for (List<Step> order : orders) {
                AvailEventTest t = new AvailEventTest();
                t.runOne(order, eventBehind);
            }
        }
    }

    private void runOne(List<Step> order, boolean eventBehind) throws Exception {
        if (eventBehind) {
            driver.add(driver.writable(64));
            assertNotNull(take()); // avail_event stays 0 while the index moved on
        } else {
            assertNull(take()); // published at the current index
        }
        String where = order + (eventBehind ? " (avail_event behind)" : " (avail_event current)");
        int old = driver.availIndex();
        boolean taken = false;
        boolean waiting = false;
        boolean kicked = false;
        boolean deviceDone = false;
        for (Step s : order) {
            switch (s) {
                case DEVICE_LOOKS -> {
                    if (queue.pending() > 0) {
                        assertNotNull(take(), where);
                        taken = true;
                        deviceDone = true;
                    }
                }
                case DEVICE_PUBLISHES -> {
                    if (!deviceDone) {
                        if (queue.armAvailEvent()) {
                            assertNotNull(take(), where);
                            taken = true;
                        } else {
                            waiting = true;
                        }
                    }
                }
                case DRIVER_ADDS -> driver.add(driver.writable(64));
                case DRIVER_DECIDES -> kicked = driver.needsKick(old);
            }
        }
        assertTrue(taken || kicked, "the buffer is neither taken nor notified: " + where);
        if (waiting) {
            assertTrue(kicked, "a device that waits is notified: " + where);
            assertNotNull(take(), "and the notify finds the buffer: " + where);
        }
    }

    private static void interleave(List<Step> a, List<Step> b, List<Step> prefix, List<List<Step>> out) {
        if (a.isEmpty() && b.isEmpty()) {
            out.add(List.copyOf(prefix));
            return;
        }
        if (!a.isEmpty()) {
            prefix.add(a.get(0));
            interleave(a.subList(1, a.size()), b, prefix, out);
            prefix.remove(prefix.size() - 1);
        }
        if (!b.isEmpty()) {
            prefix.add(b.get(0));
            interleave(a, b.subList(1, b.size()), prefix, out);
            prefix.remove(prefix.size() - 1);
        }
    }
}
