package dev.jvmm.boot.arm64;

import java.util.ArrayList;
import java.util.List;

/**
 * Hands out device windows in the arm64 MMIO gigabyte and GIC SPIs, in request order, so the
 * machine builder never names an address or an interrupt number itself. Each allocation is
 * recorded under its owner's name, which the device tree and diagnostics reuse. Not thread-safe:
 * a machine is laid out by one thread before it runs.
 */
public final class Arm64Allocator {
    /** One device's share: its window and its SPI (-1 where it asked for none). */
    public record Allocation(String owner, long base, long size, int spi) {
        /** The GIC interrupt ID of the SPI (what the GIC registers use). */
        public int intid() {
            return spi + Arm64Layout.SPI_BASE;
        }
    }

    private final long end;
    private final int spiEnd;
    private long next;
    private int nextSpi;
    private final List<Allocation> allocations = new ArrayList<>();

    /** Windows from {@link Arm64Layout#ALLOCATABLE_START} to the start of RAM; SPIs from 16 to the GIC's last. */
    public Arm64Allocator() {
        this(Arm64Layout.ALLOCATABLE_START, Arm64Layout.MMIO_END, Arm64Layout.FIRST_ALLOCATABLE_SPI, Arm64Layout.SPI_COUNT);
    }

    /** A smaller range, for tests of exhaustion. */
    Arm64Allocator(long start, long end, int firstSpi, int spiEnd) {
        this.next = start;
        this.end = end;
        this.nextSpi = firstSpi;
        this.spiEnd = spiEnd;
    }

    /** How many devices with an SPI the standard allocator can place: one per SPI it hands out. */
    public static int deviceCapacity() {
        return Arm64Layout.SPI_COUNT - Arm64Layout.FIRST_ALLOCATABLE_SPI;
    }

    /**
     * A window of {@code size} bytes (a power of two, at least a page), aligned to its size, and
     * an SPI, for {@code owner}.
     */
    public Allocation device(String owner, long size) {
        return allocate(owner, size, true);
    }

    /** A window without an interrupt. */
    public Allocation window(String owner, long size) {
        return allocate(owner, size, false);
    }

    private Allocation allocate(String owner, long size, boolean withSpi) {
        if (size < Arm64Layout.PAGE || Long.bitCount(size) != 1) {
            throw new IllegalArgumentException("window for " + owner + " of " + size
                    + " bytes: a power of two of at least 4 KiB is needed");
        }
        for (Allocation a : allocations) {
            if (a.owner().equals(owner)) {
                throw new IllegalArgumentException("device " + owner + " already has a window at 0x"
                        + Long.toHexString(a.base()));
            }
        }
        long base = (next + size - 1) & -size;
        if (base > end - size) {
            throw new IllegalArgumentException(String.format("no room for %s: a 0x%x-byte window would pass 0x%x", owner,
                    size, end));
        }
        if (withSpi && nextSpi >= spiEnd) {
            throw new IllegalArgumentException("no SPI left for " + owner + ": all " + spiEnd + " of the GIC's are taken");
        }
        Allocation a = new Allocation(owner, base, size, withSpi ? nextSpi++ : -1);
        next = base + size;
        allocations.add(a);
        return a;
    }

    public List<Allocation> allocations() {
        return List.copyOf(allocations);
    }
}
