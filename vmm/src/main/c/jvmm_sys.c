/*
 * jvmm's one native library: the C library calls of dev.jvmm.vmm.sys.LibC, as JNI functions.
 * Each call keeps errno in a thread-local variable when it fails, read back by LibC.lastError();
 * nothing else here keeps state. Built by Maven with the host's gcc (and, where present,
 * aarch64-linux-gnu-gcc) into the vmm jar; loaded by LibC. JNA did the same through a generic
 * dispatcher whose own start-up (logging, reflection, annotation proxies, an ldconfig child)
 * cost more than everything else jvmm does before its first KVM_RUN.
 */
#define _GNU_SOURCE
#include <jni.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

static __thread int last_errno;

#define KEEP(r) do { if ((r) < 0) last_errno = errno; } while (0)
#define FN(ret, name) JNIEXPORT ret JNICALL Java_dev_jvmm_vmm_sys_LibC_##name
#define P(x) ((void *) (intptr_t) (x))

FN(jint, lastError)(JNIEnv *env, jclass c) { (void) env; (void) c; return last_errno; }

FN(jint, open)(JNIEnv *env, jclass c, jstring path, jint flags) {
    (void) c;
    const char *p = (*env)->GetStringUTFChars(env, path, NULL);
    if (p == NULL) {
        last_errno = ENOMEM;
        return -1;
    }
    int r = open(p, flags);
    KEEP(r);
    (*env)->ReleaseStringUTFChars(env, path, p);
    return r;
}

FN(jint, close)(JNIEnv *env, jclass c, jint fd) { (void) env; (void) c; int r = close(fd); KEEP(r); return r; }

FN(jint, ioctl)(JNIEnv *env, jclass c, jint fd, jlong request, jlong arg) {
    (void) env; (void) c;
    int r = ioctl(fd, (unsigned long) request, (unsigned long) arg);
    KEEP(r);
    return r;
}

FN(jlong, mmap)(JNIEnv *env, jclass c, jlong addr, jlong length, jint prot, jint flags, jint fd, jlong offset) {
    (void) env; (void) c;
    void *r = mmap(P(addr), (size_t) length, prot, flags, fd, (off_t) offset);
    if (r == MAP_FAILED) {
        last_errno = errno;
        return -1;
    }
    return (jlong) (intptr_t) r;
}

FN(jint, munmap)(JNIEnv *env, jclass c, jlong addr, jlong length) {
    (void) env; (void) c; int r = munmap(P(addr), (size_t) length); KEEP(r); return r;
}

FN(jint, eventfd)(JNIEnv *env, jclass c, jint initval, jint flags) {
    (void) env; (void) c; int r = eventfd((unsigned) initval, flags); KEEP(r); return r;
}

FN(jlong, read)(JNIEnv *env, jclass c, jint fd, jlong buf, jlong count) {
    (void) env; (void) c; ssize_t r = read(fd, P(buf), (size_t) count); KEEP(r); return r;
}

FN(jlong, write)(JNIEnv *env, jclass c, jint fd, jlong buf, jlong count) {
    (void) env; (void) c; ssize_t r = write(fd, P(buf), (size_t) count); KEEP(r); return r;
}

FN(jint, fallocate)(JNIEnv *env, jclass c, jint fd, jint mode, jlong offset, jlong len) {
    (void) env; (void) c; int r = fallocate(fd, mode, (off_t) offset, (off_t) len); KEEP(r); return r;
}

FN(jint, flock)(JNIEnv *env, jclass c, jint fd, jint op) { (void) env; (void) c; int r = flock(fd, op); KEEP(r); return r; }

FN(jint, poll)(JNIEnv *env, jclass c, jlong fds, jint nfds, jint timeout) {
    (void) env; (void) c; int r = poll(P(fds), (nfds_t) nfds, timeout); KEEP(r); return r;
}

FN(jlong, pthread_1self)(JNIEnv *env, jclass c) { (void) env; (void) c; return (jlong) pthread_self(); }

FN(jint, pthread_1kill)(JNIEnv *env, jclass c, jlong thread, jint sig) {
    (void) env; (void) c; return pthread_kill((pthread_t) thread, sig); /* returns the error number itself */
}

FN(jint, madvise)(JNIEnv *env, jclass c, jlong addr, jlong length, jint advice) {
    (void) env; (void) c; int r = madvise(P(addr), (size_t) length, advice); KEEP(r); return r;
}

FN(jint, mincore)(JNIEnv *env, jclass c, jlong addr, jlong length, jlong vec) {
    (void) env; (void) c; int r = mincore(P(addr), (size_t) length, P(vec)); KEEP(r); return r;
}

FN(jint, isatty)(JNIEnv *env, jclass c, jint fd) { (void) env; (void) c; int r = isatty(fd); if (!r) last_errno = errno; return r; }

FN(jint, tcgetattr)(JNIEnv *env, jclass c, jint fd, jlong t) {
    (void) env; (void) c; int r = tcgetattr(fd, P(t)); KEEP(r); return r;
}

FN(jint, tcsetattr)(JNIEnv *env, jclass c, jint fd, jint actions, jlong t) {
    (void) env; (void) c; int r = tcsetattr(fd, actions, P(t)); KEEP(r); return r;
}

FN(void, cfmakeraw)(JNIEnv *env, jclass c, jlong t) { (void) env; (void) c; cfmakeraw(P(t)); }

FN(jint, epoll_1create1)(JNIEnv *env, jclass c, jint flags) {
    (void) env; (void) c; int r = epoll_create1(flags); KEEP(r); return r;
}

FN(jint, epoll_1ctl)(JNIEnv *env, jclass c, jint epfd, jint op, jint fd, jlong event) {
    (void) env; (void) c; int r = epoll_ctl(epfd, op, fd, P(event)); KEEP(r); return r;
}

FN(jint, epoll_1wait)(JNIEnv *env, jclass c, jint epfd, jlong events, jint max, jint timeout) {
    (void) env; (void) c; int r = epoll_wait(epfd, P(events), max, timeout); KEEP(r); return r;
}

/* sizeof(struct epoll_event): 12 on x86-64 (packed), 16 elsewhere. */
FN(jint, epollEventSize)(JNIEnv *env, jclass c) { (void) env; (void) c; return (jint) sizeof(struct epoll_event); }

FN(jobject, view)(JNIEnv *env, jclass c, jlong addr, jlong length) {
    (void) c; return (*env)->NewDirectByteBuffer(env, P(addr), length);
}

FN(jlong, address)(JNIEnv *env, jclass c, jobject buffer) {
    (void) c; return (jlong) (intptr_t) (*env)->GetDirectBufferAddress(env, buffer);
}
