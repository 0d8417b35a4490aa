package dev.jvmm.devices.virtio;

import java.util.Arrays;

/**
 * What every jvmm virtio device shares: its counters and the context it runs with between
 * DRIVER_OK and reset, both guarded by the device's own monitor.
 */
public abstract class QueueDevice implements VirtioDevice {
    /** Counters the transport keeps on every device, after the device's own. */
    private static final String[] TRANSPORT_COUNTERS = {"notifications", "interrupts", "queue_errors"};

    protected final DeviceMetrics metrics;
    /** Null until DRIVER_OK and after a reset. */
    protected DeviceContext context;

    protected QueueDevice(String... counters) {
        String[] all = Arrays.copyOf(counters, counters.length + TRANSPORT_COUNTERS.length);
        System.arraycopy(TRANSPORT_COUNTERS, 0, all, counters.length, TRANSPORT_COUNTERS.length);
        this.metrics = new DeviceMetrics(all);
    }

    @Override
    public final synchronized void activate(DeviceContext context) {
        this.context = context;
        started(context);
    }

    /** After DRIVER_OK, holding the device's monitor. */
    protected void started(DeviceContext context) {}

    @Override
    public final synchronized void reset() {
        context = null;
        stopped();
    }

    /** After a reset, holding the device's monitor: drop what was in flight. */
    protected void stopped() {}

    @Override
    public final DeviceMetrics metrics() {
        return metrics;
    }
}
