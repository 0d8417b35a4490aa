package dev.jvmm.vmm.kvm;

import dev.jvmm.vmm.sys.KvmIoctls;
import dev.jvmm.vmm.sys.Syscalls;

import java.nio.ByteBuffer;

/**
 * A device KVM emulates in the kernel, made with KVM_CREATE_DEVICE (arm64's vGIC) and set up
 * through its attributes. Closed with its VM.
 */
public final class KvmDevice {
    /** struct kvm_device_attr: u32 flags, u32 group, u64 attr, u64 addr (checked by the arm64 ABI test). */
    private static final int ATTR_SIZE = 24;

    private final int fd;
    private final int type;

    KvmDevice(int fd, int type) {
        this.fd = fd;
        this.type = type;
    }

    public int type() {
        return type;
    }

    int fd() {
        return fd;
    }

    /**
     * KVM_SET_DEVICE_ATTR: {@code value} is passed by address, as a u32 or u64 per
     * {@code width} (4 or 8); a width of 0 passes no value (addr 0, as control attributes want).
     */
    public void setAttr(int group, long attr, long value, int width, String what) {
        ByteBuffer v = Syscalls.struct(8);
        if (width == 4) {
            v.putInt(0, (int) value);
        } else if (width == 8) {
            v.putLong(0, value);
        } else if (width != 0) {
            throw new IllegalArgumentException("attribute width " + width);
        }
        ByteBuffer a = Syscalls.struct(ATTR_SIZE);
        a.putInt(4, group).putLong(8, attr).putLong(16, width == 0 ? 0 : Syscalls.address(v));
        Syscalls.ioctl(fd, KvmIoctls.KVM_SET_DEVICE_ATTR, Syscalls.address(a), what);
    }

    /** KVM_HAS_DEVICE_ATTR: whether the device knows {@code group}/{@code attr}. */
    public boolean hasAttr(int group, long attr) {
        ByteBuffer a = Syscalls.struct(ATTR_SIZE);
        a.putInt(4, group).putLong(8, attr);
        return Syscalls.ioctlNoThrow(fd, KvmIoctls.KVM_HAS_DEVICE_ATTR, Syscalls.address(a)) == 0;
    }
}
