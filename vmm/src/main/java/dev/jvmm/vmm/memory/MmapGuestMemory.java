package dev.jvmm.vmm.memory;

import dev.jvmm.vmm.sys.Syscalls;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Guest RAM in anonymous private mappings, one per region, 2 MiB aligned and advised for
 * transparent huge pages, registered with KVM by address.
 */
public final class MmapGuestMemory extends GuestMemory {
    private final long[] hostAddresses;
    private boolean closed;

    MmapGuestMemory(List<MemoryRegion> regions) {
        super(regions);
        hostAddresses = new long[regions.size()];
        try {
            for (int i = 0; i < regions.size(); i++) {
                hostAddresses[i] = Syscalls.mmapGuestRam(regions.get(i).size());
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

    /**
     * Guest RAM the host holds in memory now (mincore): the memory the guest has touched, for the
     * VMM's own overhead (peak RSS minus this). -1 if the kernel will not say; 0 once closed.
     */
    public synchronized long residentBytes() {
        long total = 0;
        for (int i = 0; i < hostAddresses.length; i++) {
            if (hostAddresses[i] != 0) {
                long r = Syscalls.residentBytes(hostAddresses[i], regions().get(i).size());
                if (r < 0) {
                    return -1;
                }
                total += r;
            }
        }
        return total;
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
