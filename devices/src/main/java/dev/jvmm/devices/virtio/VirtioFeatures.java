package dev.jvmm.devices.virtio;

/** Feature bits the transport itself offers, shared by every device (virtio 1.2, section 6). */
public final class VirtioFeatures {
    private VirtioFeatures() {}

    public static final int RING_INDIRECT_DESC = 28;
    public static final int RING_EVENT_IDX = 29;
    public static final int VERSION_1 = 32;
    public static final int RING_RESET = 40;

    /** What every jvmm virtio device offers on top of its own bits. */
    public static final long TRANSPORT = bit(RING_INDIRECT_DESC) | bit(RING_EVENT_IDX) | bit(VERSION_1) | bit(RING_RESET);

    public static long bit(int n) {
        return 1L << n;
    }

    public static boolean has(long features, int n) {
        return (features & bit(n)) != 0;
    }
}
