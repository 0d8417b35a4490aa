package dev.jvmm.devices.virtio.blk;

import java.util.Objects;

/**
 * A run of sectors on a read-write drive that the guest may read but never write, discard or
 * zero: how the booted slot's root, hash and kernel partitions stay intact while the rest of the
 * disk is writable. Sectors are 512 bytes; both ends are inclusive.
 */
public record FencedRange(String name, long firstSector, long lastSector) {
    public FencedRange {
        Objects.requireNonNull(name, "name");
        if (name.isBlank()) {
            throw new IllegalArgumentException("a fenced range needs a name");
        }
        if (firstSector < 0 || lastSector < firstSector) {
            throw new IllegalArgumentException("fenced range " + name + ": sectors " + firstSector + "-" + lastSector
                    + " are not a non-negative, ascending run");
        }
    }

    /**
     * Whether any of the {@code sectors} sectors from {@code first} lies in this range. Both are
     * taken unsigned, as the guest sends them; a run that wraps past 2^64 - 1 counts as touching,
     * so a hostile request can never slip past by overflowing.
     */
    public boolean touches(long first, long sectors) {
        if (sectors == 0) {
            return false;
        }
        long last = first + (sectors - 1);
        if (Long.compareUnsigned(last, first) < 0) {
            return true;
        }
        return Long.compareUnsigned(first, lastSector) <= 0 && Long.compareUnsigned(last, firstSector) >= 0;
    }
}
