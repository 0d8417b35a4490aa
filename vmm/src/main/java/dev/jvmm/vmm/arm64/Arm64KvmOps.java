package dev.jvmm.vmm.arm64;

import dev.jvmm.vmm.kvm.KvmDevice;
import dev.jvmm.vmm.kvm.KvmVcpu;
import dev.jvmm.vmm.kvm.KvmVm;

/**
 * The few KVM calls arm64 set-up makes, as interfaces: {@link Arm64Vcpus} and {@link Arm64Gic}
 * use these, KVM's objects implement them through {@link #of(KvmVm)} and {@link #of(KvmVcpu)},
 * and tests implement them with recorders to check the order and values of the calls without KVM.
 * Failures are KVM's own exceptions (SyscallException with the errno).
 */
public final class Arm64KvmOps {
    private Arm64KvmOps() {}

    /** The VM: its preferred vCPU target and in-kernel devices. */
    public interface Vm {
        /** KVM_ARM_PREFERRED_TARGET: {target, features[0..6]}. */
        int[] preferredTarget();

        /** KVM_CREATE_DEVICE of {@code type}. */
        Device createDevice(int type);
    }

    /** An in-kernel device (the vGIC). */
    public interface Device {
        /** KVM_SET_DEVICE_ATTR; {@code width} 4 or 8 passes {@code value} by address, 0 passes none. */
        void setAttr(int group, long attr, long value, int width, String what);
    }

    /** One vCPU. */
    public interface Vcpu {
        int id();

        /** KVM_ARM_VCPU_INIT with {target, features[0..6]}. */
        void init(int[] init);

        void setOneReg(long id, long value);

        long getOneReg(long id);
    }

    public static Vm of(KvmVm vm) {
        return new Vm() {
            @Override
            public int[] preferredTarget() {
                return vm.armPreferredTarget();
            }

            @Override
            public Device createDevice(int type) {
                KvmDevice d = vm.createDevice(type);
                return d::setAttr;
            }
        };
    }

    public static Vcpu of(KvmVcpu vcpu) {
        return new Vcpu() {
            @Override
            public int id() {
                return vcpu.id();
            }

            @Override
            public void init(int[] init) {
                vcpu.armInit(init);
            }

            @Override
            public void setOneReg(long id, long value) {
                vcpu.setOneReg(id, value);
            }

            @Override
            public long getOneReg(long id) {
                return vcpu.getOneReg(id);
            }
        };
    }
}
