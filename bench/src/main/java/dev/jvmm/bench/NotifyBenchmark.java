package dev.jvmm.bench;

import dev.jvmm.devices.virtio.MmioTransport;
import dev.jvmm.devices.virtio.QueueNotifier;
import dev.jvmm.devices.virtio.VirtqueueDriver;
import dev.jvmm.devices.virtio.blk.BlockDevice;
import dev.jvmm.devices.virtio.blk.BlockFile;
import dev.jvmm.vmm.memory.GuestMemory;
import dev.jvmm.vmm.memory.MemoryRegion;
import dev.jvmm.vmm.memory.MmapGuestMemory;
import dev.jvmm.vmm.sys.Syscalls;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Queue notification through an eventfd, as KVM_IOEVENTFD delivers it, without KVM: this thread
 * makes a 512-byte virtio-blk read available and writes the queue's eventfd (what KVM does on
 * the guest's QueueNotify), the notifier thread wakes and serves the queue, and this thread spins
 * until the used index moves. {@code impl}: {@code epoll} is jvmm's {@link QueueNotifier};
 * {@code poll} is {@link PollingNotifier}, the one it replaced. {@code queues}: how many
 * eventfds the notifier watches (one per queue of every device; only the first is kicked).
 * <ul>
 * <li>{@code notifyToUsed}: the round trip, eventfd write to used index;</li>
 * <li>{@code stopIdle}: stopping a notifier that sleeps with nothing to do, as VM teardown does.</li>
 * </ul>
 * Two threads on two cores: other load on the machine shows in the figures; use several forks.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(3)
public class NotifyBenchmark {
    /** Starts, stops and names either notifier. */
    interface Notifier {
        void start();

        boolean stop(long millis) throws InterruptedException;
    }

    static Notifier create(String impl, List<QueueNotifier.Target> targets) {
        if (impl.equals("poll")) {
            PollingNotifier p = new PollingNotifier(targets, Throwable::printStackTrace);
            return new Notifier() {
                public void start() {
                    p.start();
                }

                public boolean stop(long millis) throws InterruptedException {
                    return p.stop(millis);
                }
            };
        }
        QueueNotifier q = new QueueNotifier(targets, Throwable::printStackTrace);
        return new Notifier() {
            public void start() {
                q.start();
            }

            public boolean stop(long millis) throws InterruptedException {
                return q.stop(millis);
            }
        };
    }

    /** Idle eventfds standing for the other queues the notifier watches. */
    static List<QueueNotifier.Target> idleTargets(int n, List<Integer> fds) {
        List<QueueNotifier.Target> targets = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int fd = Syscalls.eventfd(0);
            fds.add(fd);
            targets.add(new QueueNotifier.Target(fd, "idle " + i, () -> { }));
        }
        return targets;
    }

    @State(Scope.Thread)
    public static class RoundTrip {
        @Param({"epoll", "poll"})
        public String impl;
        @Param({"1", "16"})
        public int queues;

        Path file;
        MmapGuestMemory memory;
        BlockDevice blk;
        MmioTransport transport;
        VirtqueueDriver driver;
        VirtqueueDriver.Buf header;
        VirtqueueDriver.Buf data;
        VirtqueueDriver.Buf status;
        Notifier notifier;
        final List<Integer> fds = new ArrayList<>();
        int kickFd;
        final ByteBuffer one = Syscalls.struct(8).putLong(0, 1);

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            file = Files.createTempFile("jvmm-notify-bench", ".img");
            Files.write(file, new byte[1 << 20]);
            memory = GuestMemory.mmap(List.of(new MemoryRegion(0, 16L << 20)));
            blk = new BlockDevice("blk0", BlockFile.open(file, true), "bench");
            transport = new MmioTransport(blk, memory, asserted -> { }, msg -> { });
            driver = new VirtqueueDriver(memory, 0x10000, 256, 0x100000, 1 << 20);
            VirtqueueDriver.negotiate(transport, -1L);
            driver.attach(transport, 0);
            VirtqueueDriver.driverOk(transport);
            header = driver.readable(ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(0, BlockDevice.T_IN)
                    .putLong(8, 8).array());
            data = driver.writable(512);
            status = driver.writable(1);
            kickFd = Syscalls.eventfd(0);
            fds.add(kickFd);
            List<QueueNotifier.Target> targets = new ArrayList<>();
            targets.add(new QueueNotifier.Target(kickFd, "blk0 queue 0", () -> transport.notifyQueue(0)));
            targets.addAll(idleTargets(queues - 1, fds));
            notifier = create(impl, targets);
            notifier.start();
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            notifier.stop(QueueNotifier.STOP_MILLIS);
            fds.forEach(Syscalls::close);
            blk.close();
            memory.close();
            Files.deleteIfExists(file);
        }
    }

    @Benchmark
    public int notifyToUsed(RoundTrip s) {
        int before = s.driver.usedIndex();
        s.driver.add(s.header, s.data, s.status);
        Syscalls.write(s.kickFd, s.one, 8);
        while (s.driver.usedIndex() == before) {
            Thread.onSpinWait();
        }
        return s.driver.nextUsed().len();
    }

    @State(Scope.Thread)
    public static class Idle {
        @Param({"epoll", "poll"})
        public String impl;

        final List<Integer> fds = new ArrayList<>();
        Notifier notifier;

        /** A fresh notifier, asleep in its wait before each stop. */
        @Setup(Level.Invocation)
        public void startOne() throws InterruptedException {
            notifier = create(impl, idleTargets(4, fds));
            notifier.start();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (!sleeping() && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
        }

        private static boolean sleeping() {
            for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
                StackTraceElement[] st = e.getValue();
                if (e.getKey().getName().equals("virtio-notify") && st.length > 0
                        && (st[0].getMethodName().equals("poll") || st[0].getMethodName().equals("epoll_wait"))) {
                    return true;
                }
            }
            return false;
        }

        @TearDown(Level.Invocation)
        public void closeFds() {
            fds.forEach(Syscalls::close);
            fds.clear();
        }
    }

    @Benchmark
    @Warmup(iterations = 2, time = 1)
    @Measurement(iterations = 3, time = 2)
    @Fork(1)
    public boolean stopIdle(Idle s) throws InterruptedException {
        return s.notifier.stop(QueueNotifier.STOP_MILLIS);
    }
}
