package dev.jvmm.devices.virtio;

import dev.jvmm.vmm.irq.InterruptLine;
import dev.jvmm.vmm.memory.GuestMemory;
import dev.jvmm.vmm.memory.HeapGuestMemory;
import dev.jvmm.vmm.memory.MemoryRegion;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One device on a transport over 4 MiB of heap guest memory, with a counting interrupt line and
 * a driver-side queue per device queue: the fixture every device test starts from.
 */
public final class TestBench {
    public static final long RAM = 4L << 20;
    public final HeapGuestMemory memory = GuestMemory.heap(List.of(new MemoryRegion(0, RAM)));
    public final AtomicInteger edges = new AtomicInteger();
    public final List<String> log = new ArrayList<>();
    /** Runs at every interrupt edge before it is counted: a test can make the line throw. */
    public volatile Runnable onEdge = () -> { };
    public final InterruptLine line = asserted -> {
        if (asserted) {
            onEdge.run();
            edges.incrementAndGet();
        }
    };
    public final MmioTransport transport;
    public final List<VirtqueueDriver> queues = new ArrayList<>();
    public long negotiated;

    public TestBench(VirtioDevice device) {
        transport = new MmioTransport(device, memory, line, log::add);
        for (int i = 0; i < device.queueCount(); i++) {
            long base = 0x10000 + i * 0x20000L;
            queues.add(new VirtqueueDriver(memory, base, 256, 0x100000 + i * 0x80000L, 0x80000));
        }
    }

    /** Negotiates everything offered, lays out every queue, sets DRIVER_OK. */
    public TestBench start() {
        return start(-1L);
    }

    public TestBench start(long wanted) {
        negotiated = VirtqueueDriver.negotiate(transport, wanted);
        for (int i = 0; i < queues.size(); i++) {
            queues.get(i).attach(transport, i);
        }
        VirtqueueDriver.driverOk(transport);
        return this;
    }

    public VirtqueueDriver queue(int i) {
        return queues.get(i);
    }

    public void kick(int i) {
        queues.get(i).kick(transport, i);
    }
}
