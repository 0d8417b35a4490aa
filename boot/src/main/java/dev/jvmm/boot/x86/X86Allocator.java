package dev.jvmm.boot.x86;

import java.util.ArrayList;
import java.util.List;

/**
 * Hands out virtio-mmio windows in the MMIO hole (4 KiB each from {@link X86Layout#VIRTIO_MMIO_START}
 * up) and their interrupts (the GSIs of {@link X86Layout#VIRTIO_GSIS}, in order), so the machine
 * builder never names an x86 address or interrupt itself. The x86 counterpart of arm64's
 * allocator; the same allocations give the DSDT entries and the {@code virtio_mmio.device=}
 * words. Not thread-safe: a machine is laid out by one thread before it runs.
 */
public final class X86Allocator {
    /** One device's share: its window and its GSI (an edge-triggered IOAPIC or PIC input). */
    public record Allocation(String owner, long base, long size, int gsi) {}

    private final List<Allocation> allocations = new ArrayList<>();

    /** How many devices the allocator can place: one per GSI it hands out. */
    public static int capacity() {
        return X86Layout.VIRTIO_GSIS.length;
    }

    /** The next window and GSI, for {@code owner}; one line when the GSIs are all taken. */
    public Allocation virtio(String owner) {
        int i = allocations.size();
        if (i >= capacity()) {
            throw new IllegalArgumentException("no interrupt left for " + owner + ": x86 guests have " + capacity()
                    + " for virtio devices");
        }
        Allocation a = new Allocation(owner, X86Layout.VIRTIO_MMIO_START + i * X86Layout.VIRTIO_MMIO_WINDOW,
                X86Layout.VIRTIO_MMIO_WINDOW, X86Layout.VIRTIO_GSIS[i]);
        allocations.add(a);
        return a;
    }

    public List<Allocation> allocations() {
        return List.copyOf(allocations);
    }
}
