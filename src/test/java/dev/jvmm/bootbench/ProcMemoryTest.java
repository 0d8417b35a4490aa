package dev.jvmm.bootbench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class ProcMemoryTest {
    private static String mapping(String range, long size, long rss, long huge) {
        return range + " rw-p 00000000 00:00 0 \n"
                + "Size:           " + size + " kB\nKernelPageSize:        4 kB\nMMUPageSize:           4 kB\n"
                + "Rss:            " + rss + " kB\nPss:            " + rss + " kB\n"
                + "AnonHugePages:  " + huge + " kB\nVmFlags: rd wr mr mw me ac sd \n";
    }

    @Test
    void guestMappingIsTheSmallestAtLeastTheGuestsSize() {
        String smaps = mapping("7f0000000000-7f0020000000", 524288, 70000, 0)   // bigger: not the guest
                + mapping("7f1000000000-7f1010000000", 262144, 34060, 32768)   // the guest's 256 MiB
                + mapping("7f2000000000-7f2000800000", 8192, 8000, 0);         // smaller: a stack
        ProcMemory.Mapping m = ProcMemory.guestMapping(smaps, 262144);
        assertEquals(262144, m.sizeKib());
        assertEquals(34060, m.rssKib());
        assertEquals(32768, m.anonHugeKib());
        // a neighbour merged into the guest's mapping still counts
        assertEquals(1234, ProcMemory.guestMapping(mapping("a-b", 262148, 1234, 0), 262144).rssKib());
        assertNull(ProcMemory.guestMapping(mapping("a-b", 8192, 8000, 0), 262144));
    }

    @Test
    void statusFieldIsReadInKib() {
        String status = "Name:\tqemu-system-x86\nVmPeak:\t  900000 kB\nVmHWM:\t   68748 kB\nVmRSS:\t   60000 kB\n";
        assertEquals(68748L, ProcMemory.statusField(status, "VmHWM:"));
        assertNull(ProcMemory.statusField(status, "VmSwap:"));
    }

    @Test
    void aProcessThatIsGoneGivesNoNumbersAndSaysWhy() {
        ProcMemory.Sample s = ProcMemory.sample(Integer.MAX_VALUE, 1024);
        assertNull(s.peakRssKib());
        assertNull(s.guestResidentKib());
        assertEquals(true, s.error() != null && s.error().contains("NoSuchFile"), s.error());
    }

    @Test
    void thisProcessHasAPeakAndAMappingOfItsOwn() {
        ProcMemory.Sample s = ProcMemory.sample(ProcessHandle.current().pid(), 4);
        assertEquals(true, s.peakRssKib() > 1000, "VmHWM " + s.peakRssKib());
        assertEquals(true, s.guestResidentKib() != null, s.error());
    }
}
