package dev.jvmm.devices.virtio;

import dev.jvmm.vmm.bus.BusDevice;
import dev.jvmm.vmm.irq.InterruptLine;
import dev.jvmm.vmm.memory.GuestMemory;

import java.util.function.IntBinaryOperator;
import java.util.function.BooleanSupplier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * virtio-mmio version 2 (virtio 1.2, 4.2): register decoding and the device status state machine
 * in front of one {@link VirtioDevice}. Queue layout registers are honoured only while a queue
 * is not ready, features only before FEATURES_OK, and FEATURES_OK only for a subset of what was
 * offered that includes VERSION_1. Interrupts are edges on one line (the DSDT says so).
 *
 * <p>Two locks, so that no register read ever waits on device I/O: the register state is
 * guarded by this object's monitor, held only for a few field updates; everything that calls
 * into the device (notifies, DRIVER_OK, reset, queue reset, config writes) runs under
 * {@code work}, taken before the monitor when both are needed. InterruptStatus, Status and
 * ConfigGeneration are atomics that the device updates without either lock. Every selector and
 * value a guest writes is checked here, so no guest access can throw.
 */
public final class MmioTransport implements BusDevice {
    public static final int SIZE = 0x1000;
    public static final int MAGIC = 0x74726976; // "virt"
    public static final int VENDOR = 0x4d4d564a; // "JVMM"

    static final int REG_MAGIC = 0x000;
    static final int REG_VERSION = 0x004;
    static final int REG_DEVICE_ID = 0x008;
    static final int REG_VENDOR_ID = 0x00c;
    static final int REG_DEVICE_FEATURES = 0x010;
    static final int REG_DEVICE_FEATURES_SEL = 0x014;
    static final int REG_DRIVER_FEATURES = 0x020;
    static final int REG_DRIVER_FEATURES_SEL = 0x024;
    static final int REG_QUEUE_SEL = 0x030;
    static final int REG_QUEUE_NUM_MAX = 0x034;
    static final int REG_QUEUE_NUM = 0x038;
    static final int REG_QUEUE_READY = 0x044;
    static final int REG_QUEUE_NOTIFY = 0x050;
    static final int REG_INTERRUPT_STATUS = 0x060;
    static final int REG_INTERRUPT_ACK = 0x064;
    static final int REG_STATUS = 0x070;
    static final int REG_QUEUE_DESC_LOW = 0x080;
    static final int REG_QUEUE_DESC_HIGH = 0x084;
    static final int REG_QUEUE_DRIVER_LOW = 0x090;
    static final int REG_QUEUE_DRIVER_HIGH = 0x094;
    static final int REG_QUEUE_DEVICE_LOW = 0x0a0;
    static final int REG_QUEUE_DEVICE_HIGH = 0x0a4;
    static final int REG_SHM_SEL = 0x0ac;
    static final int REG_SHM_LEN_LOW = 0x0b0;
    static final int REG_SHM_LEN_HIGH = 0x0b4;
    static final int REG_QUEUE_RESET = 0x0c0;
    static final int REG_CONFIG_GENERATION = 0x0fc;
    static final int REG_CONFIG = 0x100;

    public static final int STATUS_ACKNOWLEDGE = 1;
    public static final int STATUS_DRIVER = 2;
    public static final int STATUS_DRIVER_OK = 4;
    public static final int STATUS_FEATURES_OK = 8;
    public static final int STATUS_NEEDS_RESET = 64;
    public static final int STATUS_FAILED = 128;

    public static final int INT_USED_RING = 1;
    public static final int INT_CONFIG = 2;

    private final VirtioDevice device;
    private final GuestMemory memory;
    private final InterruptLine irq;
    private final Consumer<String> log;
    private final List<Virtqueue> queues = new ArrayList<>();
    private final long offered;
    /** Serialises every call into the device; never held by a register read. */
    private final Object work = new Object();

    private final AtomicInteger status = new AtomicInteger();
    private final AtomicInteger interruptStatus = new AtomicInteger();
    private final AtomicInteger configGeneration = new AtomicInteger();
    // Guarded by this object's monitor.
    private int deviceFeaturesSel;
    private int driverFeaturesSel;
    private long driverFeatures;
    private int queueSel;
    private final boolean[] queueWasReset;

    /**
     * The queues' question "is this device in NEEDS_RESET?". Inner classes and CAS loops here, not
     * lambdas: a guest's first register write would otherwise link invokedynamic in the middle
     * of its boot (about 0.3 s under the lab's TCG).
     */
    private final BooleanSupplier needsResetCheck = new BooleanSupplier() {
        @Override
        public boolean getAsBoolean() {
            return needsReset();
        }
    };

    public MmioTransport(VirtioDevice device, GuestMemory memory, InterruptLine irq, Consumer<String> log) {
        this.device = device;
        this.memory = memory;
        this.irq = irq;
        this.log = log;
        this.offered = device.features() | VirtioFeatures.TRANSPORT;
        for (int i = 0; i < device.queueCount(); i++) {
            queues.add(new Virtqueue(memory, device.maxQueueSize(i), device.maxChainBytes(i), needsResetCheck));
        }
        this.queueWasReset = new boolean[queues.size()];
    }

    public VirtioDevice device() {
        return device;
    }

    public int status() {
        return status.get();
    }

    public int interruptStatus() {
        return interruptStatus.get();
    }

    /** Queue {@code index} as the transport holds it: for tests that check its layout. */
    Virtqueue queue(int index) {
        return queues.get(index);
    }

    private boolean needsReset() {
        return (status.get() & STATUS_NEEDS_RESET) != 0;
    }

    /** The features both sides agreed on (meaningful once FEATURES_OK is set). */
    public synchronized long negotiatedFeatures() {
        return driverFeatures;
    }

    @Override
    public void read(long offset, byte[] data) {
        Arrays.fill(data, (byte) 0);
        if (offset >= REG_CONFIG) {
            device.readConfig((int) (offset - REG_CONFIG), data);
            return;
        }
        if (data.length != 4) {
            return; // registers are 32-bit; other widths read as zero
        }
        int v = switch ((int) offset) {
            case REG_MAGIC -> MAGIC;
            case REG_VERSION -> 2;
            case REG_DEVICE_ID -> device.deviceType();
            case REG_VENDOR_ID -> VENDOR;
            case REG_INTERRUPT_STATUS -> interruptStatus.get();
            case REG_STATUS -> status.get();
            case REG_CONFIG_GENERATION -> configGeneration.get();
            case REG_SHM_LEN_LOW, REG_SHM_LEN_HIGH -> -1; // no shared memory regions
            default -> readSelected((int) offset);
        };
        put32(data, v);
    }

    /** The registers that depend on a selector: a short hold of the register monitor. */
    private synchronized int readSelected(int offset) {
        Virtqueue q = selected();
        return switch (offset) {
            case REG_DEVICE_FEATURES -> deviceFeaturesSel == 0 ? (int) offered : deviceFeaturesSel == 1 ? (int) (offered >>> 32) : 0;
            case REG_QUEUE_NUM_MAX -> q == null ? 0 : q.maxSize();
            case REG_QUEUE_READY -> q != null && q.isEnabled() ? 1 : 0;
            case REG_QUEUE_RESET -> q != null && queueWasReset[queueSel] ? 1 : 0;
            default -> 0;
        };
    }

    @Override
    public void write(long offset, byte[] data) {
        if (offset >= REG_CONFIG) {
            synchronized (work) {
                device.writeConfig((int) (offset - REG_CONFIG), data);
            }
            return;
        }
        if (data.length != 4) {
            return;
        }
        int v = get32(data);
        switch ((int) offset) {
            case REG_QUEUE_NOTIFY -> notifyQueue(v & 0xffff);
            case REG_INTERRUPT_ACK -> interruptStatus.getAndUpdate(s -> s & ~v);
            case REG_STATUS -> writeStatus(v & 0xff);
            case REG_QUEUE_RESET -> queueReset(v);
            default -> writeSelected((int) offset, v);
        }
    }

    private synchronized void writeSelected(int offset, int v) {
        Virtqueue q = selected();
        switch (offset) {
            case REG_DEVICE_FEATURES_SEL -> deviceFeaturesSel = v;
            case REG_DRIVER_FEATURES_SEL -> driverFeaturesSel = v;
            case REG_DRIVER_FEATURES -> {
                if ((status.get() & STATUS_FEATURES_OK) == 0 && (driverFeaturesSel == 0 || driverFeaturesSel == 1)) {
                    int shift = 32 * driverFeaturesSel;
                    driverFeatures = (driverFeatures & ~(0xffffffffL << shift)) | ((v & 0xffffffffL) << shift);
                }
            }
            case REG_QUEUE_SEL -> queueSel = v;
            // The queue ignores layout writes while enabled (virtio 1.2, 4.2.2.2) and checks the size.
            case REG_QUEUE_NUM -> { if (q != null) q.setSize(v); }
            case REG_QUEUE_DESC_LOW -> { if (q != null) q.setDescTable(low(q.descTable(), v)); }
            case REG_QUEUE_DESC_HIGH -> { if (q != null) q.setDescTable(high(q.descTable(), v)); }
            case REG_QUEUE_DRIVER_LOW -> { if (q != null) q.setAvailRing(low(q.availRing(), v)); }
            case REG_QUEUE_DRIVER_HIGH -> { if (q != null) q.setAvailRing(high(q.availRing(), v)); }
            case REG_QUEUE_DEVICE_LOW -> { if (q != null) q.setUsedRing(low(q.usedRing(), v)); }
            case REG_QUEUE_DEVICE_HIGH -> { if (q != null) q.setUsedRing(high(q.usedRing(), v)); }
            case REG_QUEUE_READY -> queueReady(q, v);
            default -> { } // read-only or unknown: ignored, as real devices do
        }
    }

    private Virtqueue selected() {
        return queueSel >= 0 && queueSel < queues.size() ? queues.get(queueSel) : null;
    }

    private void queueReady(Virtqueue q, int v) {
        if (q == null) {
            return;
        }
        if (v == 0) {
            q.disable();
            return;
        }
        if (q.isEnabled()) {
            return;
        }
        String problem = q.enable();
        if (problem != null) {
            log.accept(device.name() + ": queue " + queueSel + " not enabled: " + problem);
            device.metrics().increment("queue_errors");
            return;
        }
        if (queueWasReset[queueSel]) {
            // Re-enabled after a queue reset while the device runs: it carries on with the new ring.
            queueWasReset[queueSel] = false;
            q.setFeatures(driverFeatures);
        }
    }

    private void queueReset(int v) {
        synchronized (work) {
            int index;
            synchronized (this) {
                if (v != 1 || !VirtioFeatures.has(driverFeatures, VirtioFeatures.RING_RESET) || selected() == null) {
                    return;
                }
                index = queueSel;
            }
            device.queueReset(index);
            synchronized (this) {
                queues.get(index).reset();
                queueWasReset[index] = true;
            }
        }
    }

    /**
     * A QueueNotify that did not come as an MMIO exit: KVM signalled an ioeventfd for this
     * queue, and a notifier thread passes it on. Register reads do not wait for it.
     */
    public void notifyQueue(int index) {
        if (index < 0 || index >= queues.size()) {
            return;
        }
        synchronized (work) {
            int s = status.get();
            if ((s & STATUS_DRIVER_OK) == 0 || (s & STATUS_NEEDS_RESET) != 0) {
                return;
            }
            device.metrics().increment("notifications");
            device.queueNotify(index);
        }
    }

    /** Where a queue's QueueNotify write lands, relative to the window: for KVM_IOEVENTFD. */
    public static long notifyOffset() {
        return REG_QUEUE_NOTIFY;
    }

    private void writeStatus(int v) {
        synchronized (work) {
            if (v == 0) {
                reset();
                return;
            }
            DeviceContext started = null;
            synchronized (this) {
                int old = status.get();
                if ((old & ~v & ~STATUS_NEEDS_RESET) != 0) {
                    return; // a driver may not clear bits except by reset
                }
                int next = v & ~STATUS_NEEDS_RESET; // only the device sets NEEDS_RESET
                if ((next & STATUS_FEATURES_OK) != 0 && (old & STATUS_FEATURES_OK) == 0 && !featuresAcceptable()) {
                    next &= ~STATUS_FEATURES_OK; // the driver reads it back and gives up
                }
                if ((next & STATUS_DRIVER_OK) != 0 && (next & STATUS_FEATURES_OK) == 0) {
                    next &= ~STATUS_DRIVER_OK;
                }
                int s;
                do {
                    s = status.get(); // a device error meanwhile stays
                } while (!status.compareAndSet(s, next | (s & STATUS_NEEDS_RESET)));
                if ((next & STATUS_DRIVER_OK) != 0 && (old & STATUS_DRIVER_OK) == 0) {
                    for (Virtqueue q : queues) {
                        q.setFeatures(driverFeatures);
                    }
                    started = new DeviceContext(memory, List.copyOf(queues), driverFeatures, signals);
                }
            }
            if (started != null) {
                device.activate(started);
            }
        }
    }

    private boolean featuresAcceptable() {
        if ((driverFeatures & ~offered) != 0) {
            log.accept(device.name() + String.format(": driver asked for features 0x%x that were not offered", driverFeatures & ~offered));
            return false;
        }
        if (!VirtioFeatures.has(driverFeatures, VirtioFeatures.VERSION_1)) {
            log.accept(device.name() + ": driver did not accept VIRTIO_F_VERSION_1 (legacy drivers are not supported)");
            return false;
        }
        return true;
    }

    /** Status 0, under {@code work}: the device first, so nothing it does lands after the queues are cleared. */
    private void reset() {
        device.reset();
        synchronized (this) {
            for (Virtqueue q : queues) {
                q.reset();
            }
            Arrays.fill(queueWasReset, false);
            driverFeatures = 0;
            deviceFeaturesSel = driverFeaturesSel = queueSel = 0;
            interruptStatus.set(0);
            status.set(0);
        }
    }

    private static final IntBinaryOperator OR = new IntBinaryOperator() {
        @Override
        public int applyAsInt(int a, int b) {
            return a | b;
        }
    };

    private void raise(int bit) {
        interruptStatus.getAndAccumulate(bit, OR);
        device.metrics().increment("interrupts");
        irq.pulse();
    }

    private final DeviceContext.Signals signals = new DeviceContext.Signals() {
        @Override
        public void usedBuffers(Virtqueue queue) {
            if (queue.needsInterrupt()) {
                raise(INT_USED_RING);
            }
        }

        @Override
        public void configChanged() {
            configGeneration.incrementAndGet();
            if ((status.get() & STATUS_DRIVER_OK) != 0) {
                raise(INT_CONFIG);
            }
        }

        @Override
        public void deviceError(String why) {
            device.metrics().increment("queue_errors");
            int before;
            do {
                before = status.get();
            } while (!status.compareAndSet(before, before == 0 ? 0 : before | STATUS_NEEDS_RESET));
            if ((before & STATUS_NEEDS_RESET) == 0) {
                log.accept(device.name() + ": needs reset: " + why);
            }
            if ((before & STATUS_DRIVER_OK) != 0) {
                raise(INT_CONFIG);
            }
        }

        @Override
        public void log(String message) {
            log.accept(device.name() + ": " + message);
        }
    };

    private static long low(long old, int v) {
        return (old & 0xffffffff00000000L) | (v & 0xffffffffL);
    }

    private static long high(long old, int v) {
        return (old & 0xffffffffL) | ((long) v << 32);
    }

    private static int get32(byte[] d) {
        return (d[0] & 0xff) | (d[1] & 0xff) << 8 | (d[2] & 0xff) << 16 | (d[3] & 0xff) << 24;
    }

    private static void put32(byte[] d, int v) {
        for (int i = 0; i < 4; i++) {
            d[i] = (byte) (v >>> (8 * i));
        }
    }

    /** Config-space helper for devices: copies the bytes of {@code config} at {@code offset} into {@code data}. */
    public static void readConfigBytes(byte[] config, int offset, byte[] data) {
        for (int i = 0; i < data.length; i++) {
            int at = offset + i;
            data[i] = at >= 0 && at < config.length ? config[at] : 0;
        }
    }
}
