package dev.jvmm.machine.arch;

/**
 * One device as an architecture's allocator placed it: its MMIO window and its interrupt. The
 * interrupt's meaning is the architecture's (an x86 GSI, an arm64 SPI); only the architecture
 * that placed the device reads it, to wire the interrupt and to describe the device to the guest.
 *
 * @param owner the device it belongs to, for messages
 */
public record Placed(String owner, long base, long size, int irq) {}
