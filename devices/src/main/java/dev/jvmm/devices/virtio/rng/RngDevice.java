package dev.jvmm.devices.virtio.rng;

import dev.jvmm.devices.virtio.QueueDevice;

import java.security.SecureRandom;

/** virtio-rng (virtio 1.2, 5.4): fills every buffer the driver offers from the host's entropy. */
public final class RngDevice extends QueueDevice {
    /** Most bytes given per request, so one greedy request cannot stall the vCPU for long. */
    public static final int MAX_PER_REQUEST = 64 * 1024;

    /** Where the bytes come from: fills the whole array. */
    @FunctionalInterface
    public interface Entropy {
        void fill(byte[] bytes);
    }

    private final Entropy random;

    public RngDevice(SecureRandom random) {
        this((Entropy) random::nextBytes);
    }

    public RngDevice(Entropy random) {
        super("requests", "bytes");
        this.random = random;
    }

    @Override
    public int deviceType() {
        return TYPE_RNG;
    }

    @Override
    public String name() {
        return "rng";
    }

    @Override
    public long features() {
        return 0;
    }

    @Override
    public int queueCount() {
        return 1;
    }

    @Override
    public void readConfig(int offset, byte[] data) {
        java.util.Arrays.fill(data, (byte) 0); // no config space
    }




    @Override
    public synchronized void queueNotify(int index) {
        if (context == null) {
            return;
        }
        context.drain(0, chain -> {
            int n = (int) Math.min(chain.writableBytes(), MAX_PER_REQUEST);
            byte[] bytes = new byte[n];
            random.fill(bytes);
            int written = chain.writer().write(bytes, 0, n);
            metrics.increment("requests");
            metrics.add("bytes", written);
            return written;
        });
    }
}
