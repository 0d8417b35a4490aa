package dev.jvmm.devices.virtio;

/**
 * A virtio device as the transport sees it: identity, features, config space and its queues.
 * It knows nothing of MMIO registers; {@link MmioTransport} decodes those.
 */
public interface VirtioDevice {
    int TYPE_NET = 1;
    int TYPE_BLOCK = 2;
    int TYPE_RNG = 4;
    int TYPE_VSOCK = 19;

    /** The virtio device ID (5.x of the spec). */
    int deviceType();

    /** A short name for logs and metrics: "blk0", "rng" ... */
    String name();

    /** Device-specific feature bits; the transport adds {@link VirtioFeatures#TRANSPORT}. */
    long features();

    int queueCount();

    /** Largest size of queue {@code index} (a power of two). */
    default int maxQueueSize(int index) {
        return 256;
    }

    /** Longest chain, in bytes, the device accepts on queue {@code index}. */
    default long maxChainBytes(int index) {
        return 1L << 28;
    }

    /** Reads config space at {@code offset}; bytes past its end read as zero. */
    void readConfig(int offset, byte[] data);

    default void writeConfig(int offset, byte[] data) {}

    /** DRIVER_OK: the queues are laid out and the device may start. */
    void activate(DeviceContext context);

    /** The driver notified queue {@code index}. */
    void queueNotify(int index);

    /** Device reset (status 0): drop everything in flight, forget the context. */
    void reset();

    /** Queue {@code index} alone was reset (VIRTIO_F_RING_RESET). */
    default void queueReset(int index) {}

    DeviceMetrics metrics();

    /** The VM is going away: release host resources (files, sockets, threads). */
    default void close() {}
}
