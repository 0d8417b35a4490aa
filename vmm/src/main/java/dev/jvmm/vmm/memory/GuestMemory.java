package dev.jvmm.vmm.memory;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * All guest RAM, addressed by guest-physical address. Every access is bounds-checked: a guest
 * address is never trusted. RAM is held as windows of at most 1 GiB (a ByteBuffer is
 * int-indexed), so guests larger than 2 GiB work; accesses that straddle windows are split.
 */
public abstract class GuestMemory implements AutoCloseable {
    /** Window size: 1 GiB keeps every window within a ByteBuffer's int index. */
    public static final long WINDOW = 1L << 30;

    private final List<MemoryRegion> regions;
    private final ByteBuffer[][] windows;
    private final long windowSize;

    protected GuestMemory(List<MemoryRegion> regions) {
        this(regions, WINDOW);
    }

    /** {@code windowSize} below 1 GiB lets tests cross window boundaries with little memory. */
    protected GuestMemory(List<MemoryRegion> regions, long windowSize) {
        if (windowSize <= 0 || windowSize > WINDOW) {
            throw new IllegalArgumentException("window size must be in (0, 1 GiB]");
        }
        this.windowSize = windowSize;
        this.regions = List.copyOf(regions);
        for (int i = 1; i < this.regions.size(); i++) {
            if (this.regions.get(i).guestBase() < this.regions.get(i - 1).end()) {
                throw new IllegalArgumentException("memory regions overlap or are unsorted");
            }
        }
        this.windows = new ByteBuffer[this.regions.size()][];
    }

    /** Subclasses call this once their backing exists. */
    protected final void initWindows() {
        for (int r = 0; r < regions.size(); r++) {
            MemoryRegion region = regions.get(r);
            int count = (int) ((region.size() + windowSize - 1) / windowSize);
            windows[r] = new ByteBuffer[count];
            for (int w = 0; w < count; w++) {
                long len = Math.min(windowSize, region.size() - w * windowSize);
                windows[r][w] = window(r, w * windowSize, (int) len);
            }
        }
    }

    /** The backing buffer of {@code length} bytes at {@code offset} in region {@code index}. */
    protected abstract ByteBuffer window(int index, long offset, int length);

    /** An anonymous-memory-backed guest RAM for KVM. */
    public static MmapGuestMemory mmap(List<MemoryRegion> regions) {
        return new MmapGuestMemory(regions);
    }

    /** A Java-heap guest RAM for tests that need no KVM. */
    public static HeapGuestMemory heap(List<MemoryRegion> regions) {
        return new HeapGuestMemory(regions);
    }

    public static HeapGuestMemory heap(long size) {
        return new HeapGuestMemory(List.of(new MemoryRegion(0, size)));
    }

    public final List<MemoryRegion> regions() {
        return regions;
    }

    public final long totalSize() {
        return regions.stream().mapToLong(MemoryRegion::size).sum();
    }

    public final boolean contains(long gpa, long length) {
        return regionIndex(gpa, length) >= 0;
    }

    private int regionIndex(long gpa, long length) {
        for (int i = 0; i < regions.size(); i++) {
            if (regions.get(i).contains(gpa, length)) {
                return i;
            }
        }
        return -1;
    }

    private int checked(long gpa, long length) {
        int r = regionIndex(gpa, length);
        if (r < 0) {
            throw new GuestMemoryException(String.format("guest access 0x%x+%d is outside guest RAM", gpa, length));
        }
        return r;
    }

    /**
     * A view of {@code length} bytes at {@code gpa}, or null when the range straddles a window
     * (callers then copy). Writes through the view reach the guest.
     */
    public final ByteBuffer slice(long gpa, int length) {
        int r = checked(gpa, length);
        long off = gpa - regions.get(r).guestBase();
        int w = (int) (off / windowSize);
        int inWindow = (int) (off % windowSize);
        if (inWindow + (long) length > windows[r][w].capacity()) {
            return null;
        }
        return windows[r][w].slice(inWindow, length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * A view of guest memory from {@code gpa}: {@code length} bytes, or fewer where a window ends
     * first (callers loop). The whole range must be RAM. Writes through the view reach the guest.
     */
    public final ByteBuffer sliceWithin(long gpa, int length) {
        int r = checked(gpa, length);
        long off = gpa - regions.get(r).guestBase();
        ByteBuffer win = windows[r][(int) (off / windowSize)];
        int inWindow = (int) (off % windowSize);
        int n = Math.min(length, win.capacity() - inWindow);
        return win.slice(inWindow, n).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    }

    public final void read(long gpa, byte[] dst, int off, int len) {
        int r = checked(gpa, len);
        long regionOff = gpa - regions.get(r).guestBase();
        while (len > 0) {
            ByteBuffer win = windows[r][(int) (regionOff / windowSize)];
            int pos = (int) (regionOff % windowSize);
            int n = Math.min(len, win.capacity() - pos);
            win.get(pos, dst, off, n);
            off += n;
            len -= n;
            regionOff += n;
        }
    }

    public final void write(long gpa, byte[] src, int off, int len) {
        int r = checked(gpa, len);
        long regionOff = gpa - regions.get(r).guestBase();
        while (len > 0) {
            ByteBuffer win = windows[r][(int) (regionOff / windowSize)];
            int pos = (int) (regionOff % windowSize);
            int n = Math.min(len, win.capacity() - pos);
            win.put(pos, src, off, n);
            off += n;
            len -= n;
            regionOff += n;
        }
    }

    public final byte[] read(long gpa, int len) {
        byte[] b = new byte[len];
        read(gpa, b, 0, len);
        return b;
    }

    public final void write(long gpa, byte[] src) {
        write(gpa, src, 0, src.length);
    }

    /** Sets {@code len} bytes at {@code gpa} to {@code value}. */
    public final void fill(long gpa, long len, byte value) {
        checked(gpa, len);
        byte[] chunk = new byte[(int) Math.min(len, 1 << 16)];
        java.util.Arrays.fill(chunk, value);
        while (len > 0) {
            int n = (int) Math.min(len, chunk.length);
            write(gpa, chunk, 0, n);
            gpa += n;
            len -= n;
        }
    }

    // Scalar accesses use the window's absolute getters: no view or array is allocated per access.
    private long readLe(long gpa, int size) {
        int r = checked(gpa, size);
        long off = gpa - regions.get(r).guestBase();
        ByteBuffer win = windows[r][(int) (off / windowSize)];
        int pos = (int) (off % windowSize);
        if (pos + size > win.capacity()) { // straddles two windows
            byte[] b = read(gpa, size);
            long v = 0;
            for (int i = size - 1; i >= 0; i--) {
                v = (v << 8) | (b[i] & 0xff);
            }
            return v;
        }
        return switch (size) {
            case 1 -> win.get(pos) & 0xffL;
            case 2 -> win.getShort(pos) & 0xffffL;
            case 4 -> win.getInt(pos) & 0xffffffffL;
            default -> win.getLong(pos);
        };
    }

    private void writeLe(long gpa, int size, long value) {
        int r = checked(gpa, size);
        long off = gpa - regions.get(r).guestBase();
        ByteBuffer win = windows[r][(int) (off / windowSize)];
        int pos = (int) (off % windowSize);
        if (pos + size > win.capacity()) { // straddles two windows
            byte[] b = new byte[size];
            for (int i = 0; i < size; i++) {
                b[i] = (byte) (value >>> (8 * i));
            }
            write(gpa, b, 0, size);
            return;
        }
        switch (size) {
            case 1 -> win.put(pos, (byte) value);
            case 2 -> win.putShort(pos, (short) value);
            case 4 -> win.putInt(pos, (int) value);
            default -> win.putLong(pos, value);
        }
    }

    public final int read8(long gpa) {
        return (int) readLe(gpa, 1);
    }

    public final int read16(long gpa) {
        return (int) readLe(gpa, 2);
    }

    public final long read32(long gpa) {
        return readLe(gpa, 4);
    }

    public final long read64(long gpa) {
        return readLe(gpa, 8);
    }

    public final void write8(long gpa, int value) {
        writeLe(gpa, 1, value);
    }

    public final void write16(long gpa, int value) {
        writeLe(gpa, 2, value);
    }

    public final void write32(long gpa, long value) {
        writeLe(gpa, 4, value);
    }

    public final void write64(long gpa, long value) {
        writeLe(gpa, 8, value);
    }

    @Override
    public void close() {}
}
