package dev.jvmm.vmm.memory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/** Guest RAM on the Java heap, for tests without KVM. */
public final class HeapGuestMemory extends GuestMemory {
    HeapGuestMemory(List<MemoryRegion> regions) {
        super(regions);
        initWindows();
    }

    /** Heap memory cut into windows of {@code windowSize} bytes, to test accesses across windows. */
    public static HeapGuestMemory withWindowSize(List<MemoryRegion> regions, long windowSize) {
        return new HeapGuestMemory(regions, windowSize);
    }

    private HeapGuestMemory(List<MemoryRegion> regions, long windowSize) {
        super(regions, windowSize);
        initWindows();
    }

    @Override
    protected ByteBuffer window(int index, long offset, int length) {
        return ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    }
}
