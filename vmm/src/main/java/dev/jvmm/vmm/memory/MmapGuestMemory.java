package dev.jvmm.vmm.memory;

import dev.jvmm.vmm.sys.Syscalls;

import java.nio.ByteBuffer;
import java.util.List;

/** Guest RAM in anonymous shared mappings, one per region, registered with KVM by address. */
public final class MmapGuestMemory extends GuestMemory {
    private final long[] hostAddresses;
    private boolean closed;

    MmapGuestMemory(List<MemoryRegion> regions) {
        super(regions);
        hostAddresses = new long[regions.size()];
        try {
            for (int i = 0; i < regions.size(); i++) {
                hostAddresses[i] = Syscalls.mmapAnonymous(regions.get(i).size());
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        initWindows();
    }

    @Override
    protected ByteBuffer window(int index, long offset, int length) {
        return Syscalls.view(hostAddresses[index] + offset, length);
    }

    /** The host virtual address backing region {@code index}, for KVM_SET_USER_MEMORY_REGION. */
    public long hostAddress(int index) {
        return hostAddresses[index];
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (int i = 0; i < hostAddresses.length; i++) {
            if (hostAddresses[i] != 0) {
                Syscalls.munmap(hostAddresses[i], regions().get(i).size());
                hostAddresses[i] = 0;
            }
        }
    }
}
