package dev.jvmm.vmm.bus;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BusTest {
    static final class Recording implements BusDevice {
        final List<String> log = new ArrayList<>();

        @Override
        public void read(long offset, byte[] data) {
            log.add("r" + offset + "/" + data.length);
            data[0] = (byte) offset;
        }

        @Override
        public void write(long offset, byte[] data) {
            log.add("w" + offset + "=" + data[0]);
        }
    }

    @Test
    void devicesSeeOffsetsNotAddresses() {
        Bus bus = new Bus("pio");
        Recording dev = new Recording();
        bus.insert(dev, 0x3f8, 8);
        byte[] b = new byte[1];
        assertTrue(bus.read(0x3fd, b));
        assertEquals(5, b[0]);
        assertTrue(bus.write(0x3f8, new byte[] {9}));
        assertEquals(List.of("r5/1", "w0=9"), dev.log);
    }

    @Test
    void overlappingRangesAreRejected() {
        Bus bus = new Bus("mmio");
        bus.insert(new Recording(), 0x1000, 0x1000);
        assertThrows(IllegalArgumentException.class, () -> bus.insert(new Recording(), 0x1fff, 1));
        assertThrows(IllegalArgumentException.class, () -> bus.insert(new Recording(), 0x0800, 0x1000));
        assertThrows(IllegalArgumentException.class, () -> bus.insert(new Recording(), 0x0, 0x10000), "covering");
        bus.insert(new Recording(), 0x2000, 0x1000); // adjacent is fine
        bus.insert(new Recording(), 0x0, 0x1000);
        assertThrows(IllegalArgumentException.class, () -> bus.insert(new Recording(), 0x5000, 0));
    }

    @Test
    void unclaimedReadsAreAllOnesAndCounted() {
        Bus bus = new Bus("pio");
        bus.insert(new Recording(), 0x60, 5);
        byte[] b = new byte[4];
        assertFalse(bus.read(0x80, b));
        assertEquals(-1, b[0]);
        assertEquals(-1, b[3]);
        assertFalse(bus.write(0x64 + 1, new byte[] {1}), "just past the device");
        assertFalse(bus.read(0x63, new byte[4]), "an access running past the device's end");
        assertEquals(3, bus.unclaimedAccesses());
    }
}
