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

    @Override
    protected ByteBuffer window(int index, long offset, int length) {
        return ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    }
}
