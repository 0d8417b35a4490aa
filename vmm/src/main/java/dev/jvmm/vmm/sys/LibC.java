package dev.jvmm.vmm.sys;

import java.nio.ByteBuffer;

/**
 * The C library calls jvmm needs, as JNI functions of jvmm's own small native library
 * (src/main/c/jvmm_sys.c, loaded by {@link NativeBoot}). Package-private: the rest of jvmm sees
 * {@link Syscalls}, which turns -1 into exceptions. A failing call leaves errno for
 * {@link #lastError} on the calling thread.
 */
final class LibC {
    static {
        NativeBoot.load();
    }

    private LibC() {}

    /** errno of this thread's last failed call through this class. */
    static native int lastError();

    /** sizeof(struct epoll_event) for this architecture (packed, 12 bytes, on x86-64). */
    static native int epollEventSize();

    /** A direct buffer over native memory (JNI NewDirectByteBuffer), big-endian as every new buffer. */
    static native ByteBuffer view(long addr, long length);

    /** The address of a direct buffer's memory (JNI GetDirectBufferAddress). */
    static native long address(ByteBuffer direct);

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

    static native int epoll_create1(int flags);

    static native int epoll_ctl(int epfd, int op, int fd, long event);

    static native int epoll_wait(int epfd, long events, int maxevents, int timeout);
}
