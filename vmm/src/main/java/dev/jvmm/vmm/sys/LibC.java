package dev.jvmm.vmm.sys;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;

/**
 * The C library calls jvmm needs, bound with JNA direct mapping (no reflection per call).
 * Package-private: the rest of jvmm sees {@link Syscalls}, which turns -1 into exceptions
 * and never exposes a JNA type.
 */
final class LibC {
    static {
        // By soname: "c" maps to libc.so, a linker script on machines with libc6-dev, which sends
        // JNA searching the library path; libc.so.6 is what dlopen finds at once.
        NativeLibrary libc;
        try {
            libc = NativeLibrary.getInstance("libc.so.6");
        } catch (UnsatisfiedLinkError notGlibc) {
            libc = NativeLibrary.getInstance(Platform.C_LIBRARY_NAME);
        }
        Native.register(LibC.class, libc);
    }

    private LibC() {}

    static native int open(String path, int flags);

    static native int close(int fd);

    /** ioctl is variadic in C; a fixed third argument of pointer width is what the kernel reads. */
    static native int ioctl(int fd, long request, long arg);

    static native long mmap(long addr, long length, int prot, int flags, int fd, long offset);

    static native int munmap(long addr, long length);

    static native int eventfd(int initval, int flags);

    static native long read(int fd, long buf, long count);

    static native long write(int fd, long buf, long count);

    static native int fallocate(int fd, int mode, long offset, long len);

    static native int flock(int fd, int operation);

    static native int poll(long fds, int nfds, int timeout);

    static native long pthread_self();

    static native int pthread_kill(long thread, int sig);

    static native int madvise(long addr, long length, int advice);

    static native int mincore(long addr, long length, long vec);

    static native int isatty(int fd);

    static native int tcgetattr(int fd, long termios);

    static native int tcsetattr(int fd, int optionalActions, long termios);

    static native void cfmakeraw(long termios);
}
