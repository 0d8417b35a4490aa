package dev.jvmm.devices.virtio;

/**
 * A virtqueue the driver laid out wrongly: a descriptor index out of range, a loop, an address
 * outside guest RAM, a chain too long. The device stops using the queue and asks for a reset.
 */
public final class VirtqueueException extends Exception {
    public VirtqueueException(String message) {
        super(message);
    }
}
