package dev.jvmm.vmm.bus;

import java.util.Map;
import java.util.TreeMap;

/**
 * Address space of devices (one for port I/O, one for MMIO). Ranges may not overlap; lookups
 * are a floor search in a sorted map. Accesses to unclaimed addresses read as all-ones and
 * writes are dropped, as on real hardware, and are counted.
 */
public final class Bus {
    private record Entry(long base, long length, BusDevice device) {}

    private final String name;
    private final TreeMap<Long, Entry> entries = new TreeMap<>();
    private volatile long unclaimedAccesses;

    public Bus(String name) {
        this.name = name;
    }

    /** Adds {@code device} at [base, base+length); throws if it overlaps an existing range. */
    public synchronized void insert(BusDevice device, long base, long length) {
        if (length <= 0 || base < 0 || base + length < base) {
            throw new IllegalArgumentException(String.format("%s: bad range 0x%x+0x%x", name, base, length));
        }
        Map.Entry<Long, Entry> below = entries.floorEntry(base + length - 1);
        if (below != null && below.getValue().base + below.getValue().length > base) {
            Entry e = below.getValue();
            throw new IllegalArgumentException(String.format("%s: range 0x%x+0x%x overlaps 0x%x+0x%x",
                    name, base, length, e.base, e.length));
        }
        entries.put(base, new Entry(base, length, device));
    }

    private Entry find(long address, int size) {
        Map.Entry<Long, Entry> floor = entries.floorEntry(address);
        if (floor == null) {
            return null;
        }
        Entry e = floor.getValue();
        return address + size <= e.base + e.length ? e : null;
    }

    /** Dispatches a read; returns false when no device claims the address. */
    public boolean read(long address, byte[] data) {
        Entry e = find(address, data.length);
        if (e == null) {
            java.util.Arrays.fill(data, (byte) 0xff);
            unclaimedAccesses++;
            return false;
        }
        e.device.read(address - e.base, data);
        return true;
    }

    /** Dispatches a write; returns false when no device claims the address. */
    public boolean write(long address, byte[] data) {
        Entry e = find(address, data.length);
        if (e == null) {
            unclaimedAccesses++;
            return false;
        }
        e.device.write(address - e.base, data);
        return true;
    }

    public long unclaimedAccesses() {
        return unclaimedAccesses;
    }

    public String name() {
        return name;
    }
}
