package dev.jvmm.vmm.kvm;

import dev.jvmm.vmm.sys.Errno;
import dev.jvmm.vmm.sys.KvmIoctls;
import dev.jvmm.vmm.sys.SyscallException;
import dev.jvmm.vmm.sys.Syscalls;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/** An open /dev/kvm: the system-level ioctls, and the factory for VMs. */
public final class KvmSystem implements AutoCloseable {
    public static final String DEFAULT_PATH = "/dev/kvm";
    public static final int EXPECTED_API_VERSION = 12;

    private final int fd;
    private final int vcpuMmapSize;

    private KvmSystem(int fd) {
        this.fd = fd;
        try {
            int api = Syscalls.ioctl(fd, KvmIoctls.KVM_GET_API_VERSION, 0, "KVM_GET_API_VERSION");
            if (api != EXPECTED_API_VERSION) {
                throw new KvmException("/dev/kvm speaks API version " + api + ", jvmm needs " + EXPECTED_API_VERSION);
            }
            this.vcpuMmapSize = Syscalls.ioctl(fd, KvmIoctls.KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE");
        } catch (RuntimeException e) {
            Syscalls.close(fd);
            throw e;
        }
    }

    public static KvmSystem open() {
        return open(DEFAULT_PATH);
    }

    public static KvmSystem open(String path) {
        if (!Files.exists(Path.of(path))) {
            throw new KvmException(path + " does not exist: this host offers no KVM");
        }
        try {
            return new KvmSystem(Syscalls.open(path, Syscalls.O_RDWR));
        } catch (SyscallException e) {
            if (e.errno() == Errno.EACCES || e.errno() == Errno.EPERM) {
                throw new KvmException("no permission to open " + path + " (add yourself to the kvm group or run as root)", e);
            }
            throw new KvmException("cannot open " + path + ": " + e.getMessage(), e);
        }
    }

    public int checkExtension(int capability) {
        return Syscalls.ioctl(fd, KvmIoctls.KVM_CHECK_EXTENSION, capability, "KVM_CHECK_EXTENSION");
    }

    int vcpuMmapSize() {
        return vcpuMmapSize;
    }

    /** The CPUID entries KVM can offer a guest; grows the buffer until KVM stops saying E2BIG. */
    public CpuidEntries supportedCpuid() {
        for (int n = 256; n <= 4096; n *= 2) {
            ByteBuffer buf = Syscalls.struct(8 + n * KvmIoctls.CPUID_ENTRY_SIZE);
            buf.putInt(0, n);
            int r = Syscalls.ioctlNoThrow(fd, KvmIoctls.KVM_GET_SUPPORTED_CPUID, Syscalls.address(buf));
            if (r >= 0) {
                return CpuidEntries.fromKvm(buf);
            }
            if (-r != Errno.E2BIG) {
                throw new SyscallException("KVM_GET_SUPPORTED_CPUID", -r);
            }
        }
        throw new KvmException("KVM_GET_SUPPORTED_CPUID wants more than 4096 entries");
    }

    public KvmVm createVm() {
        int vmFd = Syscalls.ioctl(fd, KvmIoctls.KVM_CREATE_VM, 0, "KVM_CREATE_VM");
        return new KvmVm(this, vmFd);
    }

    @Override
    public void close() {
        Syscalls.close(fd);
    }
}
