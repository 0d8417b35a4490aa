/**
 * The x86_64 {@link dev.jvmm.machine.arch.Architecture}: the machine builder's one way to x86's
 * memory map, device placement, kernel loading with ACPI, vCPU set-up and power model, which
 * live in dev.jvmm.boot.x86, dev.jvmm.boot.acpi and dev.jvmm.vmm.x86; and how the guest learns
 * of its virtio devices ({@link dev.jvmm.machine.x86.VirtioDiscovery}: DSDT or command line).
 *
 * <p>Depends on dev.jvmm.machine.arch, the x86 packages of boot and vmm, dev.jvmm.vmm.kvm and
 * the fixed devices of dev.jvmm.devices; not on dev.jvmm.machine.
 */
package dev.jvmm.machine.x86;
