package dev.jvmm.vmm.sys;


import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The one native boundary of jvmm. Every system call goes through here; failures become
 * {@link SyscallException}; memory crosses as direct {@link ByteBuffer}s and raw addresses.
 */
public final class Syscalls {
    public static final int O_RDONLY = 0;
    public static final int O_RDWR = 2;
    public static final int O_CLOEXEC = 0x80000;

    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_NORESERVE = 0x4000;
    public static final int EFD_CLOEXEC = 0x80000;
    public static final int EFD_NONBLOCK = 0x800;

    private static final long MAP_FAILED = -1L;

    private Syscalls() {}

    public static int open(String path, int flags) {
        int fd = LibC.open(path, flags | O_CLOEXEC);
        if (fd < 0) {
            throw new SyscallException("open(" + path + ")", LibC.lastError());
        }
        return fd;
    }

    public static void close(int fd) {
        if (fd >= 0) {
            LibC.close(fd);
        }
    }

    /** ioctl with an integer (or no) argument; returns the non-negative result. */
    public static int ioctl(int fd, long request, long arg, String what) {
        while (true) {
            int r = LibC.ioctl(fd, request, arg);
            if (r >= 0) {
                return r;
            }
            int errno = LibC.lastError();
            if (errno != Errno.EINTR) {
                throw new SyscallException(what, errno);
            }
        }
    }

    /** ioctl that may legitimately fail (e.g. KVM_RUN interrupted); returns -errno on failure. */
    public static int ioctlNoThrow(int fd, long request, long arg) {
        int r = LibC.ioctl(fd, request, arg);
        return r >= 0 ? r : -LibC.lastError();
    }

    /** Anonymous shared memory (for memory another process or a fork must see). */
    public static long mmapAnonymous(long length) {
        long addr = LibC.mmap(0, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (addr == MAP_FAILED) {
            throw new SyscallException("mmap(" + length + " bytes)", LibC.lastError());
        }
        return addr;
    }

    public static final int MAP_PRIVATE = 0x02;
    public static final int MADV_HUGEPAGE = 14;
    public static final long HUGE_PAGE = 2L << 20;

    /**
     * Anonymous private memory for guest RAM, starting on a 2 MiB boundary and advised for
     * transparent huge pages: KVM can then map the guest's memory with 2 MiB pages, which saves
     * the guest most of its TLB misses and the host most of its page faults. (Shared anonymous
     * memory gets no transparent huge pages; kernels before 6.7 do not align anonymous mappings
     * themselves.) An madvise the kernel refuses (THP compiled out) leaves ordinary pages.
     * Unmap with {@link #munmap} and the same length.
     */
    public static long mmapGuestRam(long length) {
        long span = length + HUGE_PAGE;
        long addr = LibC.mmap(0, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (addr == MAP_FAILED) {
            throw new SyscallException("mmap(" + length + " bytes)", LibC.lastError());
        }
        long aligned = (addr + HUGE_PAGE - 1) & -HUGE_PAGE;
        if (aligned > addr) {
            munmap(addr, aligned - addr);
        }
        long tail = addr + span - (aligned + length);
        if (tail > 0) {
            munmap(aligned + length, tail);
        }
        LibC.madvise(aligned, length, MADV_HUGEPAGE);
        return aligned;
    }

    /** How many bytes of [addr, addr+length) are resident (mincore(2)); -1 if the kernel will not say. */
    public static long residentBytes(long addr, long length) {
        long pages = (length + 4095) / 4096;
        long total = 0;
        final long chunkPages = 1 << 20; // 4 GiB of address space per call, a 1 MiB vector
        ByteBuffer vec = ByteBuffer.allocateDirect((int) Math.min(pages, chunkPages));
        for (long done = 0; done < pages; done += chunkPages) {
            long n = Math.min(chunkPages, pages - done);
            if (LibC.mincore(addr + done * 4096, n * 4096, address(vec)) != 0) {
                return -1;
            }
            for (int i = 0; i < n; i++) {
                total += vec.get(i) & 1;
            }
        }
        return total * 4096;
    }

    /** isatty(3). */
    public static boolean isTerminal(int fd) {
        return LibC.isatty(fd) == 1;
    }

    /** sizeof(struct termios) in glibc on Linux; a little more is allocated, to be safe. */
    private static final int TERMIOS_BYTES = 64;
    private static final int TCSANOW = 0;

    /** The terminal settings of {@code fd} (tcgetattr), opaque; null if it is not a terminal. */
    public static byte[] terminalSettings(int fd) {
        ByteBuffer t = struct(TERMIOS_BYTES);
        if (LibC.tcgetattr(fd, address(t)) != 0) {
            return null;
        }
        byte[] saved = new byte[TERMIOS_BYTES];
        t.get(0, saved);
        return saved;
    }

    /** Sets {@code fd}'s terminal settings (tcsetattr TCSANOW); false if it refused. */
    public static boolean setTerminalSettings(int fd, byte[] settings) {
        ByteBuffer t = struct(TERMIOS_BYTES);
        t.put(0, settings);
        return LibC.tcsetattr(fd, TCSANOW, address(t)) == 0;
    }

    /** {@code settings} made raw as cfmakeraw(3) does (what `stty raw -echo` does, in-process). */
    public static byte[] rawTerminalSettings(byte[] settings) {
        ByteBuffer t = struct(TERMIOS_BYTES);
        t.put(0, settings);
        LibC.cfmakeraw(address(t));
        byte[] raw = new byte[TERMIOS_BYTES];
        t.get(0, raw);
        return raw;
    }

    public static long mmapFile(int fd, long length, long offset) {
        long addr = LibC.mmap(0, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset);
        if (addr == MAP_FAILED) {
            throw new SyscallException("mmap(fd " + fd + ")", LibC.lastError());
        }
        return addr;
    }

    public static void munmap(long addr, long length) {
        if (LibC.munmap(addr, length) != 0) {
            throw new SyscallException("munmap", LibC.lastError());
        }
    }

    public static int eventfd(int flags) {
        int fd = LibC.eventfd(0, flags | EFD_CLOEXEC);
        if (fd < 0) {
            throw new SyscallException("eventfd", LibC.lastError());
        }
        return fd;
    }

    /** A little-endian direct buffer over native memory at {@code addr}; at most 2 GiB - 1. */
    public static ByteBuffer view(long addr, long length) {
        if (length < 0 || length > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("view length out of range: " + length);
        }
        return LibC.view(addr, length).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The native address of a direct buffer, to pass to an ioctl. */
    public static long address(ByteBuffer direct) {
        if (!direct.isDirect()) {
            throw new IllegalArgumentException("buffer is not direct");
        }
        return LibC.address(direct);
    }

    /** A zeroed, little-endian direct buffer for ioctl structs. */
    public static ByteBuffer struct(int size) {
        return ByteBuffer.allocateDirect(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    public static void writeEventfd(int fd, long value) {
        ByteBuffer b = struct(8);
        b.putLong(0, value);
        if (LibC.write(fd, address(b), 8) != 8) {
            throw new SyscallException("write(eventfd)", LibC.lastError());
        }
    }

    /** The calling thread's pthread handle, so another thread can {@link #kick} it. */
    public static long currentThreadHandle() {
        return LibC.pthread_self();
    }

    /** Sends {@code signal} to one thread, to make its blocking ioctl return EINTR. */
    public static void signalThread(long threadHandle, int signal) {
        int r = LibC.pthread_kill(threadHandle, signal);
        if (r != 0) {
            throw new SyscallException("pthread_kill", r);
        }
    }

    public static final int FALLOC_FL_KEEP_SIZE = 0x01;
    public static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    public static final int FALLOC_FL_ZERO_RANGE = 0x10;

    /** fallocate(2); returns 0 or the errno, since "not supported here" is an answer, not a failure. */
    public static int fallocate(int fd, int mode, long offset, long length) {
        while (true) {
            int r = LibC.fallocate(fd, mode, offset, length);
            if (r == 0) {
                return 0;
            }
            int errno = LibC.lastError();
            if (errno != Errno.EINTR) {
                return errno;
            }
        }
    }

    public static final int LOCK_SH = 1;
    public static final int LOCK_EX = 2;
    public static final int LOCK_NB = 4;
    public static final int LOCK_UN = 8;

    /** flock(2) without waiting; false when another open file holds a conflicting lock. */
    public static boolean tryFlock(int fd, boolean exclusive) {
        while (true) {
            if (LibC.flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0) {
                return true;
            }
            int errno = LibC.lastError();
            if (errno == Errno.EAGAIN) { // EWOULDBLOCK
                return false;
            }
            if (errno != Errno.EINTR) {
                throw new SyscallException("flock", errno);
            }
        }
    }

    public static final short POLLIN = 1;

    /** Waits up to {@code timeoutMs} for {@code fd} to be readable; true if it is. */
    public static boolean pollIn(int fd, int timeoutMs) {
        ByteBuffer p = struct(8);
        p.putInt(0, fd).putShort(4, POLLIN);
        int r = LibC.poll(address(p), 1, timeoutMs);
        if (r < 0) {
            int errno = LibC.lastError();
            if (errno == Errno.EINTR) {
                return false;
            }
            throw new SyscallException("poll", errno);
        }
        return r > 0 && (p.getShort(6) & POLLIN) != 0;
    }

    /** read(2) into a direct buffer's first {@code length} bytes; returns the count, or -errno. */
    public static long read(int fd, ByteBuffer direct, int length) {
        long r = LibC.read(fd, address(direct), length);
        return r >= 0 ? r : -LibC.lastError();
    }

    /** write(2) from a direct buffer's first {@code length} bytes; returns the count, or -errno. */
    public static long write(int fd, ByteBuffer direct, int length) {
        long r = LibC.write(fd, address(direct), length);
        return r >= 0 ? r : -LibC.lastError();
    }

    /**
     * Waits up to {@code timeoutMs} for any of {@code fds} to be readable; returns, per fd, whether
     * it is (all false on timeout or EINTR).
     */
    public static boolean[] pollInAny(int[] fds, int timeoutMs) {
        ByteBuffer p = struct(8 * Math.max(1, fds.length));
        for (int i = 0; i < fds.length; i++) {
            p.putInt(8 * i, fds[i]).putShort(8 * i + 4, POLLIN);
        }
        boolean[] ready = new boolean[fds.length];
        int r = LibC.poll(address(p), fds.length, timeoutMs);
        if (r < 0) {
            int errno = LibC.lastError();
            if (errno == Errno.EINTR) {
                return ready;
            }
            throw new SyscallException("poll", errno);
        }
        for (int i = 0; i < fds.length && r > 0; i++) {
            ready[i] = (p.getShort(8 * i + 6) & POLLIN) != 0;
        }
        return ready;
    }

    /** Reads and clears an eventfd's counter (8 bytes). */
    public static long readEventfd(int fd, ByteBuffer eight) {
        long r = LibC.read(fd, address(eight), 8);
        return r == 8 ? eight.getLong(0) : 0;
    }
}
