package dev.jvmm.vmm.memory;

/** One contiguous range of guest RAM. */
public record MemoryRegion(long guestBase, long size) {
    public MemoryRegion {
        if (guestBase < 0 || size <= 0 || guestBase + size < guestBase) {
            throw new IllegalArgumentException("bad region " + guestBase + "+" + size);
        }
    }

    public long end() {
        return guestBase + size;
    }

    public boolean contains(long gpa, long length) {
        return gpa >= guestBase && length >= 0 && gpa + length >= gpa && gpa + length <= end();
    }
}
