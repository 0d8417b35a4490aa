package dev.jvmm.vmm.arm64;

import dev.jvmm.vmm.sys.KvmIoctls;

/**
 * The arm64 half of the KVM ABI jvmm uses: linux/kvm.h, asm/kvm.h, asm/ptrace.h and
 * linux/psci.h as an arm64 build sees them. The generic ioctls (KVM_RUN, KVM_IRQFD, memory
 * slots...) are the same on both architectures and stay in {@link dev.jvmm.vmm.sys.KvmIoctls}.
 * Each name here is the C name, so the ABI test can check every value against the headers.
 */
public final class Arm64Kvm {
    private Arm64Kvm() {}

    // struct sizes
    /** struct kvm_vcpu_init: u32 target, u32 features[7]. */
    public static final int KVM_VCPU_INIT_SIZE = 32;
    public static final int KVM_VCPU_INIT_FEATURES = 7;
    /** struct kvm_one_reg: u64 id, u64 addr. */
    public static final int KVM_ONE_REG_SIZE = 16;
    /** struct kvm_create_device: u32 type, u32 fd, u32 flags. */
    public static final int KVM_CREATE_DEVICE_SIZE = 12;
    /** struct kvm_device_attr: u32 flags, u32 group, u64 attr, u64 addr. */
    public static final int KVM_DEVICE_ATTR_SIZE = 24;
    public static final int KVM_DEVICE_ATTR_GROUP_OFFSET = 4;
    public static final int KVM_DEVICE_ATTR_ATTR_OFFSET = 8;
    public static final int KVM_DEVICE_ATTR_ADDR_OFFSET = 16;
    public static final int KVM_CREATE_DEVICE_FD_OFFSET = 4;
    public static final int KVM_CREATE_DEVICE_FLAGS_OFFSET = 8;

    // ioctls: defined once in KvmIoctls, which KvmVm and KvmVcpu use; named here to be checked
    // against the arm64 headers with the rest
    public static final long KVM_GET_ONE_REG = KvmIoctls.KVM_GET_ONE_REG;
    public static final long KVM_SET_ONE_REG = KvmIoctls.KVM_SET_ONE_REG;
    public static final long KVM_ARM_VCPU_INIT = KvmIoctls.KVM_ARM_VCPU_INIT;
    public static final long KVM_ARM_PREFERRED_TARGET = KvmIoctls.KVM_ARM_PREFERRED_TARGET;
    public static final long KVM_CREATE_DEVICE = KvmIoctls.KVM_CREATE_DEVICE;
    public static final long KVM_SET_DEVICE_ATTR = KvmIoctls.KVM_SET_DEVICE_ATTR;
    public static final long KVM_GET_DEVICE_ATTR = KvmIoctls.KVM_GET_DEVICE_ATTR;
    public static final long KVM_HAS_DEVICE_ATTR = KvmIoctls.KVM_HAS_DEVICE_ATTR;
    // the generic ones arm64 uses as x86 does, checked here against the arm64 headers too
    public static final long KVM_RUN = KvmIoctls.KVM_RUN;
    public static final long KVM_CREATE_VCPU = KvmIoctls.KVM_CREATE_VCPU;
    public static final long KVM_SET_USER_MEMORY_REGION = KvmIoctls.KVM_SET_USER_MEMORY_REGION;
    public static final long KVM_IRQ_LINE = KvmIoctls.KVM_IRQ_LINE;
    public static final long KVM_IRQFD = KvmIoctls.KVM_IRQFD;
    public static final long KVM_IOEVENTFD = KvmIoctls.KVM_IOEVENTFD;
    public static final int KVM_EXIT_MMIO = KvmIoctls.KVM_EXIT_MMIO;
    public static final int KVM_EXIT_SYSTEM_EVENT = KvmIoctls.KVM_EXIT_SYSTEM_EVENT;
    public static final int KVM_SYSTEM_EVENT_SHUTDOWN = KvmIoctls.KVM_SYSTEM_EVENT_SHUTDOWN;
    public static final int KVM_SYSTEM_EVENT_RESET = KvmIoctls.KVM_SYSTEM_EVENT_RESET;
    public static final int RUN_EXIT_REASON = KvmIoctls.RUN_EXIT_REASON;
    public static final int RUN_MMIO_PHYS_ADDR = KvmIoctls.RUN_MMIO_PHYS_ADDR;
    public static final int RUN_MMIO_DATA = KvmIoctls.RUN_MMIO_DATA;
    public static final int RUN_MMIO_LEN = KvmIoctls.RUN_MMIO_LEN;
    public static final int RUN_MMIO_IS_WRITE = KvmIoctls.RUN_MMIO_IS_WRITE;
    public static final int RUN_SYSTEM_EVENT_TYPE = KvmIoctls.RUN_SYSTEM_EVENT_TYPE;
    public static final int RUN_IMMEDIATE_EXIT = KvmIoctls.RUN_IMMEDIATE_EXIT;

    // capabilities
    public static final int KVM_CAP_ONE_REG = 70;
    public static final int KVM_CAP_DEVICE_CTRL = 89;
    public static final int KVM_CAP_ARM_PSCI_0_2 = 102;
    public static final int KVM_CAP_ARM_VM_IPA_SIZE = 165;

    /** KVM_CREATE_DEVICE flag: only ask whether the device type exists. */
    public static final int KVM_CREATE_DEVICE_TEST = 1;

    // vCPU init features (bit numbers in features[0])
    public static final int KVM_ARM_VCPU_POWER_OFF = 0;
    public static final int KVM_ARM_VCPU_PSCI_0_2 = 2;
    /** What KVM_ARM_PREFERRED_TARGET answers on most hosts (and in the arm64 lab). */
    public static final int KVM_ARM_TARGET_GENERIC_V8 = 5;

    // ONE_REG ids
    public static final long KVM_REG_ARM64 = 0x6000000000000000L;
    public static final long KVM_REG_SIZE_U64 = 0x0030000000000000L;
    public static final int KVM_REG_ARM_COPROC_SHIFT = 16;
    public static final long KVM_REG_ARM_CORE = 0x0010L << KVM_REG_ARM_COPROC_SHIFT;
    public static final long KVM_REG_ARM64_SYSREG = 0x0013L << KVM_REG_ARM_COPROC_SHIFT;
    /** Offsets in struct kvm_regs (struct user_pt_regs first: regs[31], sp, pc, pstate). */
    public static final int KVM_REGS_X0_OFFSET = 0;
    public static final int KVM_REGS_SP_OFFSET = 248;
    public static final int KVM_REGS_PC_OFFSET = 256;
    public static final int KVM_REGS_PSTATE_OFFSET = 264;

    // PSTATE bits (asm/ptrace.h)
    public static final long PSR_MODE_EL1h = 0x5;
    public static final long PSR_F_BIT = 0x40;
    public static final long PSR_I_BIT = 0x80;
    public static final long PSR_A_BIT = 0x100;
    public static final long PSR_D_BIT = 0x200;

    // vGIC devices
    public static final int KVM_DEV_TYPE_ARM_VGIC_V2 = 5;
    public static final int KVM_DEV_TYPE_ARM_VGIC_V3 = 7;
    public static final int KVM_DEV_ARM_VGIC_GRP_ADDR = 0;
    public static final int KVM_DEV_ARM_VGIC_GRP_NR_IRQS = 3;
    public static final int KVM_DEV_ARM_VGIC_GRP_CTRL = 4;
    public static final int KVM_DEV_ARM_VGIC_CTRL_INIT = 0;
    public static final int KVM_VGIC_V2_ADDR_TYPE_DIST = 0;
    public static final int KVM_VGIC_V2_ADDR_TYPE_CPU = 1;
    public static final int KVM_VGIC_V3_ADDR_TYPE_DIST = 2;
    public static final int KVM_VGIC_V3_ADDR_TYPE_REDIST = 3;
    public static final long KVM_VGIC_V2_DIST_SIZE = 0x1000;
    public static final long KVM_VGIC_V2_CPU_SIZE = 0x2000;
    public static final long KVM_VGIC_V3_DIST_SIZE = 0x10000;
    public static final long KVM_VGIC_V3_REDIST_SIZE = 0x20000;

    // KVM_IRQ_LINE's irq field on arm64: type, vCPU and number packed in 32 bits
    public static final int KVM_ARM_IRQ_TYPE_SHIFT = 24;
    public static final int KVM_ARM_IRQ_TYPE_SPI = 1;
    public static final int KVM_ARM_IRQ_TYPE_PPI = 2;
    public static final int KVM_ARM_IRQ_VCPU_SHIFT = 16;

    // PSCI 0.2 function ids (linux/psci.h): KVM serves them in the kernel; SYSTEM_OFF and
    // SYSTEM_RESET come out as KVM_EXIT_SYSTEM_EVENT SHUTDOWN and RESET.
    public static final int PSCI_0_2_FN_PSCI_VERSION = 0x84000000;
    public static final int PSCI_0_2_FN_CPU_OFF = 0x84000002;
    public static final int PSCI_0_2_FN_CPU_ON = 0x84000003;
    public static final int PSCI_0_2_FN_SYSTEM_OFF = 0x84000008;
    public static final int PSCI_0_2_FN_SYSTEM_RESET = 0x84000009;
    public static final int PSCI_0_2_FN64_CPU_ON = 0xC4000003;

    /** The ONE_REG id of a core register at byte {@code offset} of struct kvm_regs. */
    public static long coreReg(int offset) {
        return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | (offset / 4);
    }

    /** The ONE_REG id of system register (op0, op1, CRn, CRm, op2). */
    public static long sysReg(int op0, int op1, int crn, int crm, int op2) {
        return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG | ((long) op0 << 14) | ((long) op1 << 11)
                | ((long) crn << 7) | ((long) crm << 3) | op2;
    }

    /** The ONE_REG id of general register x{@code n} (0..30). */
    public static long x(int n) {
        if (n < 0 || n > 30) {
            throw new IllegalArgumentException("no register x" + n);
        }
        return coreReg(KVM_REGS_X0_OFFSET + 8 * n);
    }

    public static final long REG_PC = coreReg(KVM_REGS_PC_OFFSET);
    public static final long REG_PSTATE = coreReg(KVM_REGS_PSTATE_OFFSET);
    public static final long REG_MPIDR_EL1 = sysReg(3, 0, 0, 0, 5);

    /** KVM_IRQ_LINE's irq field for SPI {@code spi} (interrupt ID spi + 32). */
    public static int irqLineSpi(int spi) {
        return (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | (spi + 32);
    }
}
