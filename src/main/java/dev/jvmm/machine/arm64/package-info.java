/**
 * The aarch64 {@link dev.jvmm.machine.arch.Architecture}: the machine builder's one way to
 * arm64's memory map, device placement, Image loading with a device tree, vCPU and GIC set-up
 * and PSCI power model, which live in dev.jvmm.boot.arm64 and dev.jvmm.vmm.arm64.
 *
 * <p>Depends on dev.jvmm.machine.arch, the arm64 packages of boot and vmm, dev.jvmm.vmm.kvm and
 * the fixed devices of dev.jvmm.devices; not on dev.jvmm.machine.
 */
package dev.jvmm.machine.arm64;
