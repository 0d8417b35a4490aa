package dev.jvmm.vmm.bus;

/**
 * A device on a port-I/O or MMIO bus. It sees offsets from the start of its own range, never
 * absolute addresses, so the same device can sit anywhere.
 */
public interface BusDevice {
    /** Fills {@code data} (1, 2, 4 or 8 bytes, little-endian) with the value at {@code offset}. */
    void read(long offset, byte[] data);

    /** Takes a guest write of {@code data} at {@code offset}. */
    void write(long offset, byte[] data);
}
