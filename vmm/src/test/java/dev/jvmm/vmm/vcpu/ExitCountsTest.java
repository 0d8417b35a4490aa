package dev.jvmm.vmm.vcpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The stop line's exit counts: summed over vCPUs, kinds with none left out. */
class ExitCountsTest {
    @Test
    void countsAddUpAndReadAsTheStopLineSaysThem() {
        ExitCounts a = new ExitCounts(200, 100, 0, 0);
        ExitCounts b = new ExitCounts(30, 0, 12, 0);
        ExitCounts sum = ExitCounts.NONE.plus(a).plus(b);
        assertEquals(342, sum.total());
        assertEquals("342 exits to jvmm: 230 I/O, 100 MMIO, 12 interrupted", sum.toString());
        assertEquals("0 exits to jvmm", ExitCounts.NONE.toString());
        assertEquals("1 exits to jvmm: 1 other", new ExitCounts(0, 0, 0, 1).toString());
    }
}
