package dev.jvmm.vmm.sys;

/**
 * ioctl request numbers and struct layouts from linux/kvm.h (x86_64 ABI). Kept in one place so
 * the offsets can be checked against the header in one read.
 */
public final class KvmIoctls {
    private KvmIoctls() {}

    private static final int KVMIO = 0xAE;

    private static long io(int nr) {
        return (KVMIO << 8) | nr;
    }

    private static long iow(int nr, int size) {
        return (1L << 30) | ((long) size << 16) | (KVMIO << 8) | nr;
    }

    private static long ior(int nr, int size) {
        return (2L << 30) | ((long) size << 16) | (KVMIO << 8) | nr;
    }

    private static long iowr(int nr, int size) {
        return (3L << 30) | ((long) size << 16) | (KVMIO << 8) | nr;
    }

    // system
    public static final long KVM_GET_API_VERSION = io(0x00);
    public static final long KVM_CREATE_VM = io(0x01);
    public static final long KVM_CHECK_EXTENSION = io(0x03);
    public static final long KVM_GET_VCPU_MMAP_SIZE = io(0x04);
    public static final long KVM_GET_SUPPORTED_CPUID = iowr(0x05, 8);
    // vm
    public static final long KVM_CREATE_VCPU = io(0x41);
    public static final long KVM_SET_USER_MEMORY_REGION = iow(0x46, 32);
    public static final long KVM_SET_TSS_ADDR = io(0x47);
    public static final long KVM_SET_IDENTITY_MAP_ADDR = iow(0x48, 8);
    public static final long KVM_CREATE_IRQCHIP = io(0x60);
    public static final long KVM_IRQ_LINE = iow(0x61, 8);
    public static final long KVM_IRQFD = iow(0x76, 32);
    public static final long KVM_CREATE_PIT2 = iow(0x77, 64);
    public static final long KVM_IOEVENTFD = iow(0x79, 64);
    // vcpu
    public static final long KVM_RUN = io(0x80);
    public static final long KVM_GET_REGS = ior(0x81, 144);
    public static final long KVM_SET_REGS = iow(0x82, 144);
    public static final long KVM_GET_SREGS = ior(0x83, 312);
    public static final long KVM_SET_SREGS = iow(0x84, 312);
    public static final long KVM_SET_MSRS = iow(0x89, 8);
    public static final long KVM_GET_FPU = ior(0x8c, 416);
    public static final long KVM_SET_FPU = iow(0x8d, 416);
    public static final long KVM_GET_LAPIC = ior(0x8e, 1024);
    public static final long KVM_SET_LAPIC = iow(0x8f, 1024);
    public static final long KVM_SET_CPUID2 = iow(0x90, 8);
    public static final long KVM_GET_XCRS = ior(0xa6, 392);
    public static final long KVM_SET_XCRS = iow(0xa7, 392);
    // device control and arm64 vCPUs: linux/kvm.h defines these for every architecture with the same
    // numbers; arm64's values are checked against the arm64 headers by Arm64KvmAbiTest.
    public static final long KVM_GET_ONE_REG = iow(0xab, 16);
    public static final long KVM_SET_ONE_REG = iow(0xac, 16);
    public static final long KVM_ARM_VCPU_INIT = iow(0xae, 32);
    public static final long KVM_ARM_PREFERRED_TARGET = ior(0xaf, 32);
    public static final long KVM_CREATE_DEVICE = iowr(0xe0, 12);
    public static final long KVM_SET_DEVICE_ATTR = iow(0xe1, 24);
    public static final long KVM_GET_DEVICE_ATTR = iow(0xe2, 24);
    public static final long KVM_HAS_DEVICE_ATTR = iow(0xe3, 24);

    // capabilities
    public static final int KVM_CAP_IRQCHIP = 0;
    public static final int KVM_CAP_USER_MEMORY = 3;
    public static final int KVM_CAP_SET_TSS_ADDR = 4;
    public static final int KVM_CAP_NR_VCPUS = 9;
    public static final int KVM_CAP_PIT2 = 33;
    public static final int KVM_CAP_IRQFD = 32;
    public static final int KVM_CAP_IOEVENTFD = 36;
    public static final int KVM_CAP_XCRS = 56;
    public static final int KVM_CAP_MAX_VCPUS = 66;
    public static final int KVM_CAP_IMMEDIATE_EXIT = 136;

    // struct kvm_run
    public static final int RUN_IMMEDIATE_EXIT = 1;
    public static final int RUN_EXIT_REASON = 8;
    public static final int RUN_IO_DIRECTION = 32;
    public static final int RUN_IO_SIZE = 33;
    public static final int RUN_IO_PORT = 34;
    public static final int RUN_IO_COUNT = 36;
    public static final int RUN_IO_DATA_OFFSET = 40;
    public static final int RUN_MMIO_PHYS_ADDR = 32;
    public static final int RUN_MMIO_DATA = 40;
    public static final int RUN_MMIO_LEN = 48;
    public static final int RUN_MMIO_IS_WRITE = 52;
    public static final int RUN_FAIL_ENTRY_REASON = 32;
    public static final int RUN_INTERNAL_SUBERROR = 32;
    public static final int RUN_SYSTEM_EVENT_TYPE = 32;

    public static final int KVM_EXIT_UNKNOWN = 0;
    public static final int KVM_EXIT_EXCEPTION = 1;
    public static final int KVM_EXIT_IO = 2;
    public static final int KVM_EXIT_HLT = 5;
    public static final int KVM_EXIT_MMIO = 6;
    public static final int KVM_EXIT_SHUTDOWN = 8;
    public static final int KVM_EXIT_FAIL_ENTRY = 9;
    public static final int KVM_EXIT_INTR = 10;
    public static final int KVM_EXIT_INTERNAL_ERROR = 17;
    public static final int KVM_EXIT_SYSTEM_EVENT = 24;

    public static final int KVM_SYSTEM_EVENT_SHUTDOWN = 1;
    public static final int KVM_SYSTEM_EVENT_RESET = 2;
    public static final int KVM_SYSTEM_EVENT_CRASH = 3;

    // struct sizes
    public static final int REGS_SIZE = 144;
    public static final int SREGS_SIZE = 312;
    public static final int FPU_SIZE = 416;
    public static final int CPUID_ENTRY_SIZE = 40;
    public static final int MSR_ENTRY_SIZE = 16;
    /** struct kvm_xcrs: nr_xcrs, flags, then 16 {xcr, reserved, value} and 16 u64 of padding. */
    public static final int XCRS_SIZE = 392;
    public static final int XCRS_FIRST_XCR = 8;
    public static final int XCRS_FIRST_VALUE = 16;
}
