package dev.jvmm.machine.arch;

/**
 * How the guest learns of its virtio-mmio devices (--virtio-discovery). On x86_64 the choice is
 * real: {@code auto} (the default) describes each device once, in the ACPI DSDT unless the
 * kernel command line turns ACPI off; {@code both} also puts the {@code virtio_mmio.device=}
 * words on the command line (a kernel with ACPI then probes the DSDT's devices and logs "probe
 * of virtio-mmio.N failed with error -16" for their twins); {@code acpi} and {@code cmdline} one
 * way each. On aarch64 the device tree is the one way, and only {@code auto} is accepted.
 */
public enum Discovery { auto, both, acpi, cmdline }
