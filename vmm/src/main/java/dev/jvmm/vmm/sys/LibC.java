package dev.jvmm.vmm.sys;

import com.sun.jna.Native;
import com.sun.jna.Platform;

/**
 * The C library calls jvmm needs, bound with JNA direct mapping (no reflection per call).
 * Package-private: the rest of jvmm sees {@link Syscalls}, which turns -1 into exceptions
 * and never exposes a JNA type.
 */
final class LibC {
    static {
        Native.register(Platform.C_LIBRARY_NAME);
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

    static native int epoll_create1(int flags);

    static native int epoll_ctl(int epfd, int op, int fd, long event);

    static native int epoll_wait(int epfd, long events, int maxevents, int timeout);
}
