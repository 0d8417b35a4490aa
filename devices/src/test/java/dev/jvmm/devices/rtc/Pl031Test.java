package dev.jvmm.devices.rtc;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

class Pl031Test {
    private final AtomicLong now = new AtomicLong(1_700_000_000L);
    private final Pl031 rtc = new Pl031(now::get);

    private int readl(int at) {
        byte[] b = new byte[4];
        rtc.read(at, b);
        return (b[0] & 0xff) | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16 | (b[3] & 0xff) << 24;
    }

    private void writel(int at, int v) {
        rtc.write(at, new byte[] {(byte) v, (byte) (v >> 8), (byte) (v >> 16), (byte) (v >> 24)});
    }

    /** What Linux's amba_read_pid/cid compute: the low byte of four words each, at the top of the window. */
    @Test
    void thePrimeCellIdsAreThoseLinuxMatchesThePl031DriverBy() {
        int pid = 0;
        int cid = 0;
        for (int i = 0; i < 4; i++) {
            pid |= (readl((int) Pl031.SIZE - 0x20 + 4 * i) & 0xff) << (8 * i);
            cid |= (readl((int) Pl031.SIZE - 0x10 + 4 * i) & 0xff) << (8 * i);
        }
        assertEquals(0xb105f00d, cid, "the AMBA PrimeCell cell ID");
        assertEquals(0x00041031, pid & 0x000fffff, "rtc-pl031's id table: 0x00041031 under mask 0x000fffff");
        byte[] one = new byte[1];
        rtc.read(0xfe0, one);
        assertEquals(0x31, one[0] & 0xff, "byte reads see the same bytes");
    }

    @Test
    void theDataRegisterCountsHostSecondsAndALoadMovesOnlyTheGuestsTime() {
        assertEquals(1_700_000_000, readl(Pl031.DR));
        now.addAndGet(5);
        assertEquals(1_700_000_005, readl(Pl031.DR));
        writel(Pl031.LR, 1000);
        assertEquals(1000, readl(Pl031.DR));
        assertEquals(1000, readl(Pl031.LR), "the load register reads back what was loaded");
        now.addAndGet(7);
        assertEquals(1007, readl(Pl031.DR), "the guest's clock runs on from what it loaded");
        assertEquals(1_700_000_012L, now.get(), "the host's clock is untouched");
    }

    @Test
    void controlReadsStartedAndTheInterruptRegistersKeepWhatIsWrittenWithoutRaisingAny() {
        assertEquals(1, readl(Pl031.CR), "always started: Linux writes the start bit only when it reads clear");
        writel(Pl031.MR, 1_700_000_001);
        writel(Pl031.IMSC, 0xff);
        assertEquals(1_700_000_001, readl(Pl031.MR));
        assertEquals(1, readl(Pl031.IMSC), "one mask bit");
        now.addAndGet(10);
        assertEquals(0, readl(Pl031.RIS), "no match interrupt is raised");
        assertEquals(0, readl(Pl031.MIS));
        writel(Pl031.DR, 5);
        assertEquals(1_700_000_010, readl(Pl031.DR), "the data register is read-only");
        assertEquals(0, readl(0x20), "a reserved offset reads as zero");
    }
}
