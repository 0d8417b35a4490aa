package dev.jvmm.devices.virtio;

import dev.jvmm.vmm.memory.GuestMemory;

import java.util.List;

/** What a device gets at DRIVER_OK: guest memory, its queues, the negotiated features, signals back. */
public record DeviceContext(GuestMemory memory, List<Virtqueue> queues, long features, Signals signals) {
    public boolean negotiated(int bit) {
        return VirtioFeatures.has(features, bit);
    }

    /** How a device tells the driver something happened. */
    public interface Signals {
        /** Buffers went into {@code queue}'s used ring; interrupts the driver if it asked to be. */
        void usedBuffers(Virtqueue queue);

        /** Config space changed (link status, capacity). */
        void configChanged();

        /** Something went wrong that only a reset clears: NEEDS_RESET and a config interrupt. */
        void deviceError(String why);
    }
}
