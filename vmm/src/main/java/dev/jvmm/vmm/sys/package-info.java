/**
 * The one native boundary of jvmm: system calls through jvmm's own JNI library (src/main/c,
 * loaded by NativeBoot, bound in the package-private LibC), errno turned into
 * {@link dev.jvmm.vmm.sys.SyscallException}, memory crossing as direct buffers and raw addresses;
 * KVM ioctl numbers, TAP, flock and epoll on top. Depends on the JDK only; every other package
 * of jvmm reaches the kernel through here.
 */
package dev.jvmm.vmm.sys;
