package dev.jvmm.devices.virtio;

import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A two-queue device for transport tests: fills every writable buffer with 0x5a, and can be
 * made to hold its queue work on a latch, the way a slow disk or network write would.
 */
final class GateDevice extends QueueDevice {
    /** Counted down each time queue work starts. */
    volatile CountDownLatch entered = new CountDownLatch(1);
    /** While not null, queue work waits for it, holding the device's monitor. */
    volatile CountDownLatch gate;

    GateDevice() {
        super("chains");
    }

    @Override
    public int deviceType() {
        return 0x3f;
    }

    @Override
    public String name() {
        return "gate";
    }

    @Override
    public long features() {
        return 0;
    }

    @Override
    public int queueCount() {
        return 2;
    }

    @Override
    public void readConfig(int offset, byte[] data) {
        MmioTransport.readConfigBytes(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, offset, data);
    }

    /** The context the transport gave at DRIVER_OK (null before and after reset). */
    synchronized DeviceContext context() {
        return context;
    }

    @Override
    public synchronized void queueNotify(int index) {
        entered.countDown();
        CountDownLatch g = gate;
        if (g != null) {
            try {
                if (!g.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("gate never opened");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (context != null) {
            context.drain(index, this::fill);
        }
    }

    long fill(DescriptorChain chain) {
        byte[] b = new byte[(int) chain.writableBytes()];
        Arrays.fill(b, (byte) 0x5a);
        metrics.increment("chains");
        return chain.writer().write(b, 0, b.length);
    }
}
