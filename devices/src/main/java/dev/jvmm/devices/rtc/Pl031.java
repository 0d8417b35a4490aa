package dev.jvmm.devices.rtc;

import dev.jvmm.vmm.bus.BusDevice;

import java.util.Arrays;
import java.util.function.LongSupplier;

/**
 * An Arm PrimeCell PL031 real-time clock, the RTC of arm64 guests: the data register counts
 * seconds since the epoch from the host's clock, and a write to the load register moves the
 * guest's time without touching the host's. The PrimeCell identification registers are
 * answered, since Linux's AMBA bus matches the driver by them and never probes a device that
 * reads as zeros there.
 *
 * <p>The match interrupt is not raised: the match, mask and clear registers keep what is written
 * and the raw status stays clear. Linux reads the clock at boot (hctosys); only an RTC alarm,
 * which a guest of jvmm does not set, would need it.
 */
public final class Pl031 implements BusDevice {
    public static final long SIZE = 0x1000;
    static final int DR = 0x00, MR = 0x04, LR = 0x08, CR = 0x0c, IMSC = 0x10, RIS = 0x14, MIS = 0x18, ICR = 0x1c;
    static final int PERIPH_ID = 0xfe0, CELL_ID = 0xff0;
    /** PeriphID0-3 (part 0x031, designer 0x41 Arm, revision 1) and PCellID0-3 (0xB105F00D), a byte each. */
    static final int[] ID_BYTES = {0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

    private final LongSupplier epochSeconds;
    private long offset;
    private int match;
    private int loaded;
    private int mask;

    /** A clock that reads the host's time. */
    public Pl031() {
        this(() -> System.currentTimeMillis() / 1000);
    }

    /** A clock over {@code epochSeconds}, the host's time in seconds (tests give their own). */
    public Pl031(LongSupplier epochSeconds) {
        this.epochSeconds = epochSeconds;
    }

    @Override
    public synchronized void read(long at, byte[] data) {
        Arrays.fill(data, (byte) 0);
        int word = register((int) (at & ~3L));
        int shift = (int) (at & 3) * 8;
        for (int i = 0; i < data.length && shift + 8 * i < 32; i++) {
            data[i] = (byte) (word >>> (shift + 8 * i));
        }
    }

    @Override
    public synchronized void write(long at, byte[] data) {
        if ((at & 3) != 0 || data.length < 4) {
            return; // the PL031's registers are written as whole words
        }
        int v = (data[0] & 0xff) | (data[1] & 0xff) << 8 | (data[2] & 0xff) << 16 | (data[3] & 0xff) << 24;
        switch ((int) at) {
            case MR -> match = v;
            case LR -> {
                loaded = v;
                offset = (v & 0xffff_ffffL) - epochSeconds.getAsLong();
            }
            case IMSC -> mask = v & 1;
            default -> { } // DR, RIS and MIS are read-only; CR's start bit is always set; ICR has nothing to clear
        }
    }

    private int register(int at) {
        if (at >= PERIPH_ID && at < CELL_ID + 16) {
            return ID_BYTES[(at - PERIPH_ID) / 4]; // the cell ID's words follow the peripheral ID's
        }
        return switch (at) {
            case DR -> (int) (epochSeconds.getAsLong() + offset);
            case MR -> match;
            case LR -> loaded;
            case CR -> 1;
            case IMSC -> mask;
            default -> 0; // RIS, MIS: no interrupt raised; reserved offsets read as zero
        };
    }
}
