package dev.jvmm.devices.virtio;

import dev.jvmm.devices.virtio.rng.RngDevice;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.util.Random;
import java.util.function.Supplier;

import static dev.jvmm.devices.virtio.VirtqueueDriver.readReg;
import static dev.jvmm.devices.virtio.VirtqueueDriver.reg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every MMIO offset in 0..0x1ff (registers and the start of config space) at every width, read
 * and written with edge and random values, from every device status a driver can reach. No
 * access may throw, and after each one the transport must still make sense: every register
 * reads (whatever the selectors hold), identity intact, status a reachable value, every
 * enabled queue laid out validly inside guest RAM.
 */
class MmioRegisterFuzzTest {
    private static final int[] WIDTHS = {1, 2, 4, 8};
    private static final long[] EDGES = {0, 1, 2, 3, 0xff, 0xffff, 0x10000, 0x7fffffffL, 0x80000000L, 0xffffffffL, -1L,
            Long.MIN_VALUE, 0x8000000000000000L | 0xffffffffL};
    private static final int OK = MmioTransport.STATUS_ACKNOWLEDGE | MmioTransport.STATUS_DRIVER | MmioTransport.STATUS_FEATURES_OK
            | MmioTransport.STATUS_DRIVER_OK;

    /** A device status and the status register value that reaching it must give. */
    private enum State {
        RESET(0), ACKNOWLEDGE(1), DRIVER(3), FEATURES_OK(11), DRIVER_OK(OK), NEEDS_RESET(OK | MmioTransport.STATUS_NEEDS_RESET),
        FAILED(3 | MmioTransport.STATUS_FAILED);

        final int status;

        State(int status) {
            this.status = status;
        }
    }

    private int accesses;
    private int combinations;

    @Test
    void everyOffsetWidthAndStateOnAOneQueueDevice() {
        fuzz(() -> new RngDevice(new SecureRandom()), 1);
    }

    @Test
    void everyOffsetWidthAndStateOnATwoQueueDevice() {
        fuzz(GateDevice::new, 2);
    }

    private void fuzz(Supplier<VirtioDevice> devices, long seed) {
        Random random = new Random(seed);
        TestBench b = new TestBench(devices.get());
        for (State state : State.values()) {
            for (int offset = 0; offset < 0x200; offset++) {
                for (int width : WIDTHS) {
                    combinations++;
                    drive(b, state);
                    // Each queue selected in turn, and one past the last.
                    reg(b.transport, MmioTransport.REG_QUEUE_SEL, (offset + width) % (b.transport.device().queueCount() + 1));
                    access(b, state, offset, width, null);
                    for (long v : EDGES) {
                        access(b, state, offset, width, v);
                    }
                    access(b, state, offset, width, random.nextLong());
                    access(b, state, offset, width, (long) random.nextInt(4)); // small selectors and queue indices
                    drive(b, state); // every access on this offset starts from the state again
                    access(b, state, offset, width, random.nextLong());
                }
            }
        }
        // The rest of config space, as far as the window goes, from DRIVER_OK.
        for (int offset = 0x200; offset < MmioTransport.SIZE; offset++) {
            for (int width : WIDTHS) {
                if (offset + width <= MmioTransport.SIZE) {
                    drive(b, State.DRIVER_OK);
                    access(b, State.DRIVER_OK, offset, width, null);
                    access(b, State.DRIVER_OK, offset, width, random.nextLong());
                }
            }
        }
        assertEquals(State.values().length * 0x200 * WIDTHS.length, combinations);
        assertTrue(accesses > combinations * (EDGES.length + 4), "accesses made: " + accesses);
    }

    /** Takes the device to {@code state} the way a driver would, from a reset. */
    private static void drive(TestBench b, State state) {
        reg(b.transport, MmioTransport.REG_STATUS, 0);
        switch (state) {
            case RESET -> { }
            case ACKNOWLEDGE -> reg(b.transport, MmioTransport.REG_STATUS, 1);
            case DRIVER -> {
                reg(b.transport, MmioTransport.REG_STATUS, 1);
                reg(b.transport, MmioTransport.REG_STATUS, 3);
            }
            case FEATURES_OK -> VirtqueueDriver.negotiate(b.transport, -1L);
            case DRIVER_OK -> b.start();
            case NEEDS_RESET -> {
                b.start();
                VirtqueueDriver q = new VirtqueueDriver(b.memory, 0x10000, 256, 0x100000, 0x80000); // b.queue(0)'s rings
                q.rawDescriptor(0, 0x100000, 8, Virtqueue.DESC_F_WRITE | Virtqueue.DESC_F_NEXT, 0); // loops on itself
                q.publish(0);
                q.kick(b.transport, 0);
            }
            case FAILED -> {
                reg(b.transport, MmioTransport.REG_STATUS, 1);
                reg(b.transport, MmioTransport.REG_STATUS, 3);
                reg(b.transport, MmioTransport.REG_STATUS, 3 | MmioTransport.STATUS_FAILED);
            }
        }
        assertEquals(state.status, b.transport.status(), "reaching " + state);
    }

    /** One read ({@code value} null) or write, then the consistency checks. */
    private void access(TestBench b, State state, int offset, int width, Long value) {
        byte[] data = new byte[width];
        String what = String.format("%s %s of width %d at 0x%03x%s", state, value == null ? "read" : "write", width, offset,
                value == null ? "" : String.format(" value 0x%x", value));
        try {
            accesses++;
            if (value == null) {
                b.transport.read(offset, data);
                if (offset < MmioTransport.REG_CONFIG && width != 4) {
                    assertTrue(allZero(data), "registers are 32-bit; other widths read zero");
                }
            } else {
                for (int i = 0; i < width; i++) {
                    data[i] = (byte) (value >>> (8 * i));
                }
                b.transport.write(offset, data);
            }
            checkConsistent(b);
        } catch (Throwable t) {
            fail(what + ": " + t, t);
        }
    }

    private static void checkConsistent(TestBench b) {
        MmioTransport t = b.transport;
        assertEquals(MmioTransport.MAGIC, readReg(t, MmioTransport.REG_MAGIC));
        assertEquals(2, readReg(t, MmioTransport.REG_VERSION));
        int s = t.status();
        assertEquals(0, s & ~0xff, "status fits a byte");
        if ((s & MmioTransport.STATUS_DRIVER_OK) != 0) {
            assertTrue((s & MmioTransport.STATUS_FEATURES_OK) != 0, "DRIVER_OK only after FEATURES_OK");
        }
        assertEquals(0, t.interruptStatus() & ~(MmioTransport.INT_USED_RING | MmioTransport.INT_CONFIG));
        for (int r = 0; r < MmioTransport.REG_CONFIG; r += 4) {
            readReg(t, r); // whatever the selectors now hold, every register reads
        }
        int max = readReg(t, MmioTransport.REG_QUEUE_NUM_MAX);
        assertTrue(max == 0 || max == 256, "QueueNumMax " + max);
        for (int i = 0; i < t.device().queueCount(); i++) {
            Virtqueue q = t.queue(i);
            if (q.isEnabled()) {
                int n = q.size();
                assertTrue(n > 0 && n <= q.maxSize() && Integer.bitCount(n) == 1, "enabled queue " + i + " of size " + n);
                assertTrue(b.memory.contains(q.descTable(), 16L * n) && b.memory.contains(q.availRing(), 6 + 2L * n)
                        && b.memory.contains(q.usedRing(), 6 + 8L * n), "enabled queue " + i + " inside RAM");
            }
        }
    }

    private static boolean allZero(byte[] d) {
        for (byte x : d) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }
}
