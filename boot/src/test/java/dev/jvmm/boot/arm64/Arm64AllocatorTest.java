package dev.jvmm.boot.arm64;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The arm64 address map's fixed points and the allocator that hands out the rest. */
class Arm64AllocatorTest {
    @Test
    void windowsAndSpisAreHandedOutInOrderFromAfterTheUart() {
        Arm64Allocator a = new Arm64Allocator();
        Arm64Allocator.Allocation blk = a.device("blk0", 0x1000);
        Arm64Allocator.Allocation net = a.device("net0", 0x1000);
        assertEquals(new Arm64Allocator.Allocation("blk0", 0x40003000L, 0x1000, 16), blk);
        assertEquals(new Arm64Allocator.Allocation("net0", 0x40004000L, 0x1000, 17), net);
        assertEquals(48, blk.intid(), "SPI 16 is interrupt ID 48");
        Arm64Allocator.Allocation big = a.device("big", 0x10000);
        assertEquals(0x40010000L, big.base(), "aligned to its size");
        Arm64Allocator.Allocation quiet = a.window("quiet", 0x1000);
        assertEquals(-1, quiet.spi());
        assertEquals(0x40020000L, quiet.base());
        assertEquals(19, a.device("next", 0x1000).spi(), "a window without an interrupt takes no SPI");
        assertEquals(List.of("blk0", "net0", "big", "quiet", "next"),
                a.allocations().stream().map(Arm64Allocator.Allocation::owner).toList());
    }

    @Test
    void badRequestsAndExhaustionAreRefused() {
        Arm64Allocator a = new Arm64Allocator();
        a.device("blk0", 0x1000);
        assertEquals("device blk0 already has a window at 0x40003000",
                assertThrows(IllegalArgumentException.class, () -> a.device("blk0", 0x1000)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> a.device("small", 0x800));
        assertThrows(IllegalArgumentException.class, () -> a.device("odd", 0x3000));
        assertThrows(IllegalArgumentException.class, () -> a.device("negative", -0x1000));
        // SPIs 16..95: 80 devices, the 81st has none left
        Arm64Allocator spis = new Arm64Allocator();
        for (int i = 0; i < 80; i++) {
            spis.device("d" + i, 0x1000);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> spis.device("d80", 0x1000));
        assertEquals("no SPI left for d80: all 96 of the GIC's are taken", e.getMessage());
        assertEquals(80, spis.allocations().size(), "the refused request took nothing");
        Arm64Allocator tiny = new Arm64Allocator(0x40003000L, 0x40005000L, 16, 96);
        tiny.device("a", 0x1000);
        tiny.device("b", 0x1000);
        e = assertThrows(IllegalArgumentException.class, () -> tiny.device("c", 0x1000));
        assertEquals("no room for c: a 0x1000-byte window would pass 0x40005000", e.getMessage());
        Arm64Allocator whole = new Arm64Allocator();
        assertThrows(IllegalArgumentException.class, () -> whole.window("huge", 1L << 30), "the whole gigabyte is not free");
        assertEquals(0x60000000L, whole.window("half", 1L << 29).base());
    }

    @Test
    void theFixedMapHasNoOverlapsAndMatchesFirecrackersAddresses() {
        assertEquals(0x40000000L, Arm64Layout.BOOT_TIMER, "Firecracker's arm64 boot timer");
        assertEquals(0x40000010L, Arm64Layout.EXIT_REGISTER);
        assertEquals(0x40001000L, Arm64Layout.RTC_BASE);
        assertEquals(0x40002000L, Arm64Layout.UART_BASE);
        assertEquals(0x80000000L, Arm64Layout.RAM_BASE);
        assertEquals(1022 * Arm64Layout.GIB, Arm64Layout.RAM_MAX);
        // the GIC lies wholly below the device gigabyte, for 512 vCPUs too
        assertEquals(0x3bff0000L, Arm64Layout.gicv3RedistBase(512));
        assertEquals(Arm64Layout.MMIO_START, Arm64Layout.GICV3_DIST_BASE + Arm64Layout.GICV3_DIST_SIZE);
        assertEquals(Arm64Layout.GICV2_DIST_BASE, Arm64Layout.GICV2_CPU_BASE + Arm64Layout.GICV2_CPU_SIZE);
        assertTrue(Arm64Layout.GICV2_DIST_BASE + Arm64Layout.GICV2_DIST_SIZE <= Arm64Layout.MMIO_START);
        assertThrows(IllegalArgumentException.class, () -> Arm64Layout.gicv3RedistBase(513));
        assertEquals(0, Arm64Layout.GIC_NR_IRQS % 32, "KVM wants a multiple of 32");
        var p = Arm64Layout.gicPlacement(4);
        assertEquals(0x3ff70000L, p.v3Redist());
        assertEquals(128, p.nrIrqs());
        // every fixed SPI lies below the allocator's first
        assertTrue(Arm64Layout.UART_SPI < Arm64Layout.FIRST_ALLOCATABLE_SPI && Arm64Layout.RTC_SPI < Arm64Layout.FIRST_ALLOCATABLE_SPI);
    }
}
