/**
 * ACPI for x86 guests without firmware: the RSDP, XSDT, a hardware-reduced FADT whose sleep and
 * reset registers reach jvmm, the MADT and a DSDT built from jvmm's own AML writer, describing
 * the fixed devices and the virtio-mmio devices an allocator placed. x86's counterpart of the
 * arm64 device tree.
 *
 * <p>Depends on dev.jvmm.boot.x86 (the layout's ports and interrupts) and dev.jvmm.vmm.memory.
 */
package dev.jvmm.boot.acpi;
