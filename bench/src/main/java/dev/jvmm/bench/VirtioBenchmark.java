package dev.jvmm.bench;

import dev.jvmm.devices.virtio.DescriptorChain;
import dev.jvmm.devices.virtio.MmioTransport;
import dev.jvmm.devices.virtio.VirtioFeatures;
import dev.jvmm.devices.virtio.Virtqueue;
import dev.jvmm.devices.virtio.VirtqueueDriver;
import dev.jvmm.devices.virtio.blk.BlockDevice;
import dev.jvmm.devices.virtio.blk.BlockFile;
import dev.jvmm.vmm.memory.GuestMemory;
import dev.jvmm.vmm.memory.MemoryRegion;
import dev.jvmm.vmm.memory.MmapGuestMemory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The virtio request path without KVM, on mmap'd guest memory as under KVM:
 * <ul>
 * <li>{@code blockRead64k}: one virtio-blk read of 64 KiB, served from a file in the page cache
 *     through the transport's notify, the queue, the device and back to the used ring;</li>
 * <li>{@code memcpy64k}: a plain 64 KiB copy between direct buffers, the physical bound for it;</li>
 * <li>{@code virtqueueRoundTrip}: one two-descriptor chain made available, popped (validated),
 *     returned and checked for an interrupt: the queue's own cost per request.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class VirtioBenchmark {
    static final int BLOCK = 64 * 1024;

    private Path file;
    private MmapGuestMemory memory;
    private BlockDevice blk;
    private MmioTransport transport;
    private VirtqueueDriver driver;
    private VirtqueueDriver.Buf header;
    private VirtqueueDriver.Buf data;
    private VirtqueueDriver.Buf status;
    private ByteBuffer src;
    private ByteBuffer dst;
    private Virtqueue queue;
    private VirtqueueDriver rawDriver;
    private VirtqueueDriver.Buf small;
    private VirtqueueDriver.Buf smallOut;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        file = Files.createTempFile("jvmm-bench", ".img");
        byte[] content = new byte[16 << 20];
        new java.util.Random(1).nextBytes(content);
        Files.write(file, content); // and so in the page cache
        memory = GuestMemory.mmap(List.of(new MemoryRegion(0, 64L << 20)));
        blk = new BlockDevice("blk0", BlockFile.open(file, true), "bench");
        transport = new MmioTransport(blk, memory, asserted -> { }, msg -> { });
        driver = new VirtqueueDriver(memory, 0x10000, 256, 0x100000, 1 << 20);
        VirtqueueDriver.negotiate(transport, -1L);
        driver.attach(transport, 0);
        VirtqueueDriver.driverOk(transport);
        header = driver.readable(ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(0, BlockDevice.T_IN)
                .putLong(8, 128).array());
        data = driver.writable(BLOCK);
        status = driver.writable(1);
        src = ByteBuffer.allocateDirect(BLOCK);
        dst = ByteBuffer.allocateDirect(BLOCK);

        rawDriver = new VirtqueueDriver(memory, 0x40000, 256, 0x200000, 1 << 20);
        queue = new Virtqueue(memory, 256, 1 << 20);
        queue.setSize(256);
        queue.setDescTable(rawDriver.descTable());
        queue.setAvailRing(rawDriver.availRing());
        queue.setUsedRing(rawDriver.usedRing());
        queue.enable();
        queue.setFeatures(VirtioFeatures.TRANSPORT);
        small = rawDriver.readable(new byte[16]);
        smallOut = rawDriver.writable(16);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        blk.close();
        memory.close();
        Files.deleteIfExists(file);
    }

    @Benchmark
    public int blockRead64k() {
        driver.add(header, data, status);
        driver.kick(transport, 0);
        return driver.nextUsed().len();
    }

    @Benchmark
    public ByteBuffer memcpy64k() {
        src.clear();
        dst.clear();
        return dst.put(src);
    }

    @Benchmark
    public boolean virtqueueRoundTrip() throws Exception {
        rawDriver.add(small, smallOut);
        DescriptorChain c = queue.pop();
        queue.addUsed(c.head(), 16);
        rawDriver.nextUsed();
        return queue.needsInterrupt();
    }
}
