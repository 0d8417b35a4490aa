/**
 * arm64 KVM: the ioctl numbers, ONE_REG register ids, vGIC device attributes and PSCI function
 * ids of the arm64 ABI ({@link dev.jvmm.vmm.arm64.Arm64Kvm}, checked against the arm64 kernel
 * headers by a cross-compiler in the tests), the register state the arm64 boot protocol asks for
 * as plain data ({@link dev.jvmm.vmm.arm64.Arm64Registers}), and the set-up that performs it:
 * vCPU init with PSCI 0.2 and the in-kernel GICv3, or GICv2 where v3 is missing
 * ({@link dev.jvmm.vmm.arm64.Arm64Vcpus}, {@link dev.jvmm.vmm.arm64.Arm64Gic}).
 *
 * <p>The set-up talks to KVM through the small {@link dev.jvmm.vmm.arm64.Arm64KvmOps} interfaces,
 * so its order of calls and its fallbacks are tested without KVM; the real implementations sit
 * on {@link dev.jvmm.vmm.kvm.KvmVm} and {@link dev.jvmm.vmm.kvm.KvmVcpu}. Addresses come from the
 * caller (the boot module's arm64 layout): nothing here places a device.
 *
 * <p>Depends on dev.jvmm.vmm.kvm and dev.jvmm.vmm.sys.
 */
package dev.jvmm.vmm.arm64;
