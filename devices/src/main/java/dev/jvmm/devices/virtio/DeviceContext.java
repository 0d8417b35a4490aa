package dev.jvmm.devices.virtio;

import dev.jvmm.vmm.memory.GuestMemory;

import java.util.List;

/** What a device gets at DRIVER_OK: guest memory, its queues, the negotiated features, signals back. */
public record DeviceContext(GuestMemory memory, List<Virtqueue> queues, long features, Signals signals) {
    public boolean negotiated(int bit) {
        return VirtioFeatures.has(features, bit);
    }

    /** Serves one request chain; returns how many bytes it wrote into the chain. */
    @FunctionalInterface
    public interface ChainHandler {
        long handle(DescriptorChain chain);
    }

    /**
     * The device side of a notify: takes every chain the driver made available on queue
     * {@code index}, returns each with the length {@code handler} reports, and interrupts the
     * driver if it asked to be. A chain that breaks the rules puts the device in NEEDS_RESET.
     */
    public void drain(int index, ChainHandler handler) {
        Virtqueue queue = queues.get(index);
        boolean used = false;
        try {
            DescriptorChain chain;
            while ((chain = queue.pop()) != null) {
                queue.addUsed(chain.head(), handler.handle(chain));
                used = true;
            }
        } catch (VirtqueueException e) {
            signals.deviceError("queue " + index + ": " + e.getMessage());
        }
        if (used) {
            signals.usedBuffers(queue);
        }
    }

    /** How a device tells the driver (and the VMM's log) something happened. */
    public interface Signals {
        /** Buffers went into {@code queue}'s used ring; interrupts the driver if it asked to be. */
        void usedBuffers(Virtqueue queue);

        /** Config space changed (link status, capacity). */
        void configChanged();

        /** Something went wrong that only a reset clears: NEEDS_RESET and a config interrupt. */
        void deviceError(String why);

        /** One line for the VMM's log, about something the operator should know; the transport names the device. */
        void log(String message);
    }
}
