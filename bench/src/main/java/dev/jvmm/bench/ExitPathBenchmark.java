package dev.jvmm.bench;

import dev.jvmm.devices.serial.Serial16550;
import dev.jvmm.vmm.bus.Bus;
import dev.jvmm.vmm.memory.GuestMemory;
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

import java.io.OutputStream;
import java.util.concurrent.TimeUnit;

/**
 * The user-space half of a KVM exit, without KVM: dispatching a port write through the bus to
 * the UART, and bounds-checked guest memory reads. `jvmm bench-exits` measures whole round trips.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ExitPathBenchmark {
    private Bus pio;
    private final byte[] data = {'x'};
    private MmapGuestMemory mmapMemory;
    private GuestMemory heapMemory;
    private long address;

    @Setup(Level.Trial)
    public void setUp() {
        pio = new Bus("pio");
        pio.insert(new Serial16550(asserted -> { }, OutputStream.nullOutputStream()), 0x3f8, 8);
        pio.insert(new Serial16550(asserted -> { }, OutputStream.nullOutputStream()), 0x2f8, 8);
        mmapMemory = GuestMemory.mmap(java.util.List.of(new dev.jvmm.vmm.memory.MemoryRegion(0, 64L << 20)));
        heapMemory = GuestMemory.heap(64L << 20);
        address = 0x123450;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        mmapMemory.close();
    }

    @Benchmark
    public boolean portWriteToUart() {
        return pio.write(0x3f8, data);
    }

    @Benchmark
    public long read64MmapMemory() {
        return mmapMemory.read64(address);
    }

    @Benchmark
    public long read64HeapMemory() {
        return heapMemory.read64(address);
    }
}
