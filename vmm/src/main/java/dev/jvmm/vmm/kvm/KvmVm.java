package dev.jvmm.vmm.kvm;

import dev.jvmm.vmm.irq.InterruptLine;
import dev.jvmm.vmm.memory.MmapGuestMemory;
import dev.jvmm.vmm.sys.KvmIoctls;
import dev.jvmm.vmm.sys.Syscalls;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** A KVM virtual machine: memory slots, the in-kernel irqchip and PIT, and its vCPUs. */
public final class KvmVm implements AutoCloseable {
    private final KvmSystem system;
    private final int fd;
    private final List<KvmVcpu> vcpus = new ArrayList<>();
    private final List<Integer> eventfds = new ArrayList<>();
    private final List<KvmDevice> devices = new ArrayList<>();
    private boolean closed;

    KvmVm(KvmSystem system, int fd) {
        this.system = system;
        this.fd = fd;
    }

    /** Registers every region of {@code memory} as a KVM memory slot. */
    public void mapMemory(MmapGuestMemory memory) {
        for (int i = 0; i < memory.regions().size(); i++) {
            var region = memory.regions().get(i);
            ByteBuffer s = Syscalls.struct(32);
            s.putInt(0, i).putInt(4, 0).putLong(8, region.guestBase()).putLong(16, region.size())
                    .putLong(24, memory.hostAddress(i));
            Syscalls.ioctl(fd, KvmIoctls.KVM_SET_USER_MEMORY_REGION, Syscalls.address(s), "KVM_SET_USER_MEMORY_REGION");
        }
    }

    /** x86: the three pages KVM needs for real-mode TSS emulation on Intel; must be outside RAM. */
    public void setTssAddress(long address) {
        Syscalls.ioctl(fd, KvmIoctls.KVM_SET_TSS_ADDR, address, "KVM_SET_TSS_ADDR");
    }

    public void setIdentityMapAddress(long address) {
        ByteBuffer b = Syscalls.struct(8);
        b.putLong(0, address);
        Syscalls.ioctl(fd, KvmIoctls.KVM_SET_IDENTITY_MAP_ADDR, Syscalls.address(b), "KVM_SET_IDENTITY_MAP_ADDR");
    }

    /** In-kernel PIC, IOAPIC and local APICs. */
    public void createIrqchip() {
        Syscalls.ioctl(fd, KvmIoctls.KVM_CREATE_IRQCHIP, 0, "KVM_CREATE_IRQCHIP");
    }

    /** In-kernel i8254 PIT, with the speaker port dummy so port 0x61 needs no device. */
    public void createPit() {
        ByteBuffer cfg = Syscalls.struct(64);
        cfg.putInt(0, 1); // KVM_PIT_SPEAKER_DUMMY
        Syscalls.ioctl(fd, KvmIoctls.KVM_CREATE_PIT2, Syscalls.address(cfg), "KVM_CREATE_PIT2");
    }

    public void setIrqLine(int gsi, boolean level) {
        ByteBuffer b = Syscalls.struct(8);
        b.putInt(0, gsi).putInt(4, level ? 1 : 0);
        Syscalls.ioctl(fd, KvmIoctls.KVM_IRQ_LINE, Syscalls.address(b), "KVM_IRQ_LINE");
    }

    /** An interrupt line wired to {@code gsi} of the in-kernel irqchip. */
    public InterruptLine interruptLine(int gsi) {
        return new InterruptLine() { // an inner class, not a lambda: no invokedynamic at VM start
            @Override
            public void setLevel(boolean asserted) {
                setIrqLine(gsi, asserted);
            }
        };
    }

    /**
     * An edge-triggered interrupt wired to {@code gsi} through KVM_IRQFD: each pulse is one write
     * to an eventfd (one syscall, from any thread) instead of two KVM_IRQ_LINE ioctls.
     */
    public synchronized InterruptLine irqfdLine(int gsi) {
        int efd = Syscalls.eventfd(0);
        ByteBuffer b = Syscalls.struct(32);
        b.putInt(0, efd).putInt(4, gsi).putInt(8, 0);
        try {
            Syscalls.ioctl(fd, KvmIoctls.KVM_IRQFD, Syscalls.address(b), "KVM_IRQFD");
        } catch (RuntimeException e) {
            Syscalls.close(efd);
            throw e;
        }
        eventfds.add(efd);
        ByteBuffer one = Syscalls.struct(8).putLong(0, 1);
        return new InterruptLine() {
            @Override
            public void setLevel(boolean asserted) {
                if (asserted) {
                    pulse(); // an irqfd only knows edges
                }
            }

            @Override
            public void pulse() {
                synchronized (one) {
                    Syscalls.write(efd, one, 8);
                }
            }
        };
    }

    /**
     * KVM_IOEVENTFD: a guest write of the 4-byte value {@code datamatch} at MMIO {@code address}
     * no longer exits to jvmm; KVM signals the returned eventfd and the vCPU runs on.
     */
    public synchronized int ioeventfd(long address, long datamatch) {
        int efd = Syscalls.eventfd(0);
        ByteBuffer b = Syscalls.struct(64);
        b.putLong(0, datamatch).putLong(8, address).putInt(16, 4).putInt(20, efd).putInt(24, 1); // FLAG_DATAMATCH
        try {
            Syscalls.ioctl(fd, KvmIoctls.KVM_IOEVENTFD, Syscalls.address(b), "KVM_IOEVENTFD");
        } catch (RuntimeException e) {
            Syscalls.close(efd);
            throw e;
        }
        eventfds.add(efd);
        return efd;
    }

    public synchronized KvmVcpu createVcpu(int id) {
        int vcpuFd = Syscalls.ioctl(fd, KvmIoctls.KVM_CREATE_VCPU, id, "KVM_CREATE_VCPU");
        KvmVcpu vcpu;
        try {
            vcpu = new KvmVcpu(id, vcpuFd, system.vcpuMmapSize());
        } catch (RuntimeException e) {
            Syscalls.close(vcpuFd);
            throw e;
        }
        vcpus.add(vcpu);
        return vcpu;
    }

    /**
     * KVM_CREATE_DEVICE (arm64's vGIC): a device of {@code type} emulated in the kernel. Throws
     * SyscallException with ENODEV where the host cannot emulate that type.
     */
    public synchronized KvmDevice createDevice(int type) {
        ByteBuffer b = Syscalls.struct(12); // struct kvm_create_device: type, fd (out), flags
        b.putInt(0, type);
        Syscalls.ioctl(fd, KvmIoctls.KVM_CREATE_DEVICE, Syscalls.address(b), "KVM_CREATE_DEVICE");
        KvmDevice d = new KvmDevice(b.getInt(4), type);
        devices.add(d);
        return d;
    }

    /** KVM_CREATE_DEVICE with KVM_CREATE_DEVICE_TEST: whether this host's KVM can make a device of {@code type}. */
    public boolean canCreateDevice(int type) {
        ByteBuffer b = Syscalls.struct(12);
        b.putInt(0, type).putInt(8, 1);
        return Syscalls.ioctlNoThrow(fd, KvmIoctls.KVM_CREATE_DEVICE, Syscalls.address(b)) == 0;
    }

    /** arm64 KVM_ARM_PREFERRED_TARGET: struct kvm_vcpu_init as {target, features[0..6]}. */
    public int[] armPreferredTarget() {
        ByteBuffer b = Syscalls.struct(32);
        Syscalls.ioctl(fd, KvmIoctls.KVM_ARM_PREFERRED_TARGET, Syscalls.address(b), "KVM_ARM_PREFERRED_TARGET");
        int[] init = new int[8];
        for (int i = 0; i < 8; i++) {
            init[i] = b.getInt(4 * i);
        }
        return init;
    }

    public KvmSystem system() {
        return system;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (KvmVcpu v : vcpus) {
            v.close();
        }
        for (KvmDevice d : devices) {
            Syscalls.close(d.fd());
        }
        Syscalls.close(fd);
        for (int efd : eventfds) {
            Syscalls.close(efd); // after the VM: its irqfds go with it
        }
    }
}
