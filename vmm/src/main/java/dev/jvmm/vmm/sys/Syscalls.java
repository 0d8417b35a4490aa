package dev.jvmm.vmm.sys;

import com.sun.jna.Native;
import com.sun.jna.Pointer;

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
            throw new SyscallException("open(" + path + ")", Native.getLastError());
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
            int errno = Native.getLastError();
            if (errno != Errno.EINTR) {
                throw new SyscallException(what, errno);
            }
        }
    }

    /** ioctl that may legitimately fail (e.g. KVM_RUN interrupted); returns -errno on failure. */
    public static int ioctlNoThrow(int fd, long request, long arg) {
        int r = LibC.ioctl(fd, request, arg);
        return r >= 0 ? r : -Native.getLastError();
    }

    /** Anonymous shared memory, as KVM wants for guest RAM. */
    public static long mmapAnonymous(long length) {
        long addr = LibC.mmap(0, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (addr == MAP_FAILED) {
            throw new SyscallException("mmap(" + length + " bytes)", Native.getLastError());
        }
        return addr;
    }

    public static long mmapFile(int fd, long length, long offset) {
        long addr = LibC.mmap(0, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset);
        if (addr == MAP_FAILED) {
            throw new SyscallException("mmap(fd " + fd + ")", Native.getLastError());
        }
        return addr;
    }

    public static void munmap(long addr, long length) {
        if (LibC.munmap(addr, length) != 0) {
            throw new SyscallException("munmap", Native.getLastError());
        }
    }

    public static int eventfd(int flags) {
        int fd = LibC.eventfd(0, flags | EFD_CLOEXEC);
        if (fd < 0) {
            throw new SyscallException("eventfd", Native.getLastError());
        }
        return fd;
    }

    /** A little-endian direct buffer over native memory at {@code addr}; at most 2 GiB - 1. */
    public static ByteBuffer view(long addr, long length) {
        if (length < 0 || length > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("view length out of range: " + length);
        }
        return new Pointer(addr).getByteBuffer(0, length).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The native address of a direct buffer, to pass to an ioctl. */
    public static long address(ByteBuffer direct) {
        if (!direct.isDirect()) {
            throw new IllegalArgumentException("buffer is not direct");
        }
        return Pointer.nativeValue(Native.getDirectBufferPointer(direct));
    }

    /** A zeroed, little-endian direct buffer for ioctl structs. */
    public static ByteBuffer struct(int size) {
        return ByteBuffer.allocateDirect(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    public static void writeEventfd(int fd, long value) {
        ByteBuffer b = struct(8);
        b.putLong(0, value);
        if (LibC.write(fd, address(b), 8) != 8) {
            throw new SyscallException("write(eventfd)", Native.getLastError());
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
            int errno = Native.getLastError();
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
            int errno = Native.getLastError();
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
            int errno = Native.getLastError();
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
        return r >= 0 ? r : -Native.getLastError();
    }

    /** write(2) from a direct buffer's first {@code length} bytes; returns the count, or -errno. */
    public static long write(int fd, ByteBuffer direct, int length) {
        long r = LibC.write(fd, address(direct), length);
        return r >= 0 ? r : -Native.getLastError();
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
            int errno = Native.getLastError();
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
