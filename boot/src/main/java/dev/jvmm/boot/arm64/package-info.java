/**
 * Booting Linux on an arm64 guest: the kernel Image format ({@link dev.jvmm.boot.arm64.Arm64Image},
 * plain or gzip-compressed), the guest's address map and interrupt numbers
 * ({@link dev.jvmm.boot.arm64.Arm64Layout}, with {@link dev.jvmm.boot.arm64.Arm64Allocator} handing
 * out device windows and SPIs), where kernel, initrd and device tree go
 * ({@link dev.jvmm.boot.arm64.Arm64LoadPlan}), and the device tree that describes the machine
 * ({@link dev.jvmm.boot.arm64.Arm64Machine}, {@link dev.jvmm.boot.arm64.Arm64MachineTree}): arm64's
 * counterpart of boot/x86 and boot/acpi.
 *
 * <p>Everything that names an arm64 guest address or interrupt number lives here; KVM calls do
 * not (dev.jvmm.vmm.arm64 makes them, with the addresses given).
 *
 * <p>Depends on dev.jvmm.boot (KernelLoadException), dev.jvmm.boot.fdt, dev.jvmm.vmm.arm64 and
 * dev.jvmm.vmm.memory.
 */
package dev.jvmm.boot.arm64;
