package dev.jvmm.vmm.memory;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GuestMemoryTest {
    private final GuestMemory twoRegions = GuestMemory.heap(List.of(new MemoryRegion(0, 0x10000),
            new MemoryRegion(0x100000, 0x1000)));

    @Test
    void littleEndianAccessorsRoundTrip() {
        GuestMemory m = GuestMemory.heap(4096);
        m.write64(8, 0x1122334455667788L);
        assertEquals(0x88, m.read8(8));
        assertEquals(0x7788, m.read16(8));
        assertEquals(0x55667788L, m.read32(8));
        assertEquals(0x1122334455667788L, m.read64(8));
        m.write32(100, 0xfffffffeL);
        assertEquals(0xfffffffeL, m.read32(100), "32-bit reads are unsigned");
    }

    @Test
    void rejectsAccessOutsideRamAndInTheHole() {
        assertThrows(GuestMemoryException.class, () -> twoRegions.read8(0x10000));
        assertThrows(GuestMemoryException.class, () -> twoRegions.read32(0xfffe), "straddles the end of a region");
        assertThrows(GuestMemoryException.class, () -> twoRegions.write8(0x50000, 1), "in the hole between regions");
        assertThrows(GuestMemoryException.class, () -> twoRegions.read64(0x100ff9));
        assertThrows(GuestMemoryException.class, () -> twoRegions.read8(-1));
        assertThrows(GuestMemoryException.class, () -> twoRegions.read(Long.MAX_VALUE - 2, 16), "wrapping range");
        assertEquals(0x42, writeRead(twoRegions, 0x100fff));
    }

    private static int writeRead(GuestMemory m, long gpa) {
        m.write8(gpa, 0x42);
        return m.read8(gpa);
    }

    @Test
    void accessesStraddlingWindowsAreSplit() {
        GuestMemory m = HeapGuestMemory.withWindowSize(List.of(new MemoryRegion(0, 64)), 16);
        byte[] data = new byte[40];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i + 1);
        }
        m.write(10, data);
        assertArrayEquals(data, m.read(10, 40));
        m.write64(12, 0x0102030405060708L);
        assertEquals(0x0102030405060708L, m.read64(12), "an 8-byte value across a window edge");
        assertNull(m.slice(12, 8), "no single view across a window edge");
        assertEquals(8, m.slice(16, 8).remaining());
    }

    @Test
    void sliceWritesReachGuestMemory() {
        GuestMemory m = GuestMemory.heap(4096);
        m.slice(64, 4).putInt(0, 0xcafebabe);
        assertEquals(0xcafebabeL, m.read32(64));
    }

    @Test
    void fillAndContains() {
        GuestMemory m = GuestMemory.heap(8192);
        m.fill(4000, 200, (byte) 7);
        assertEquals(7, m.read8(4199));
        assertEquals(0, m.read8(4200));
        assertTrue(m.contains(0, 8192));
        assertFalse(m.contains(1, 8192));
        assertEquals(8192, m.totalSize());
    }

    @Test
    void overlappingRegionsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> GuestMemory.heap(List.of(new MemoryRegion(0, 0x2000),
                new MemoryRegion(0x1000, 0x1000))));
    }
}
