package dev.jvmm.boot.x86;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class X86AllocatorTest {
    @Test
    void windowsFollowEachOtherFromTheVirtioStartWithTheFreeGsisInOrder() {
        X86Allocator a = new X86Allocator();
        assertEquals(new X86Allocator.Allocation("blk0", 0xC000_1000L, 0x1000, 5), a.virtio("blk0"));
        assertEquals(new X86Allocator.Allocation("rng", 0xC000_2000L, 0x1000, 6), a.virtio("rng"));
        assertEquals(2, a.allocations().size());
    }

    /** Every window in the MMIO hole, clear of the platform page and the IOAPIC; no GSI a fixed device uses. */
    @Test
    void allSeventeenFitAndTheEighteenthIsRefusedInOneLine() {
        X86Allocator a = new X86Allocator();
        Set<Integer> gsis = new HashSet<>();
        for (int i = 0; i < X86Allocator.capacity(); i++) {
            X86Allocator.Allocation d = a.virtio("d" + i);
            assertTrue(d.base() > X86Layout.PLATFORM_PAGE && d.base() + d.size() <= X86Layout.IOAPIC_ADDRESS);
            assertTrue(gsis.add(d.gsi()), "GSI " + d.gsi() + " given twice");
            assertFalse(d.gsi() == X86Layout.SERIAL_IRQ || d.gsi() == X86Layout.KEYBOARD_IRQ || d.gsi() == 0
                    || d.gsi() == 2 || d.gsi() == 8 || d.gsi() == 12, "GSI " + d.gsi() + " belongs to a platform device");
            assertTrue(d.gsi() < 24, "the IOAPIC has 24 pins");
        }
        assertEquals(17, X86Allocator.capacity());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.virtio("one too many"));
        assertEquals("no interrupt left for one too many: x86 guests have 17 for virtio devices", e.getMessage());
    }
}
