package dev.jvmm.machine;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.boot.x86.EarlyKernelWrite;
import dev.jvmm.devices.platform.PlatformPage;
import dev.jvmm.devices.serial.Serial16550;
import dev.jvmm.devices.virtio.QueueNotifier;
import dev.jvmm.machine.arch.Arch;
import dev.jvmm.machine.arch.Architecture;
import dev.jvmm.machine.arch.Board;
import dev.jvmm.machine.arch.Payload;
import dev.jvmm.machine.arch.Placed;
import dev.jvmm.machine.arch.Platform;
import dev.jvmm.vmm.bus.Bus;
import dev.jvmm.vmm.kvm.KvmSystem;
import dev.jvmm.vmm.kvm.KvmVcpu;
import dev.jvmm.vmm.kvm.KvmVm;
import dev.jvmm.vmm.memory.GuestMemory;
import dev.jvmm.vmm.memory.MmapGuestMemory;
import dev.jvmm.vmm.memory.SetupStep;
import dev.jvmm.vmm.sys.KvmIoctls;
import dev.jvmm.vmm.vcpu.ExitCounts;
import dev.jvmm.vmm.vcpu.RunControl;
import dev.jvmm.vmm.vcpu.StopReason;
import dev.jvmm.vmm.vcpu.VcpuThread;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.function.BiPredicate;
import java.util.function.IntFunction;
import java.util.function.Consumer;
import java.util.concurrent.ThreadFactory;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One built VM, of the architecture its config names: it owns the KVM objects, guest memory,
 * buses, devices and vCPU threads, and closes them in the reverse order they were made. What
 * differs between architectures (memory map, device placement, kernel loading and firmware
 * description, vCPU set-up, fixed devices, power-off and reset) is asked of the architecture's
 * {@link Board}; this class names no address or interrupt number. Building is separate from running so a
 * reboot of an image boot is "close, firmware pass, build, run" while the disk lives on.
 * Teardown stops every thread that touches guest memory (vCPUs, console, queue notifier, device
 * threads) before the memory is unmapped.
 */
public final class Vm implements AutoCloseable {
    /** What a running VM tells its owner beyond its stop reason. */
    public interface Events {
        Events NONE = new Events() {};

        /** The guest wrote the boot-timer byte. */
        default void guestReady() {}

        /** One console line, without its newline (at most a few hundred characters). */
        default void consoleLine(String line) {}
    }

    private final MachineConfig config;
    private final Timeline timeline;
    private final PrintStream err;
    private final RunControl control = new RunControl();
    /** Everything to close, most recent first. */
    private final Deque<AutoCloseable> owned = new ArrayDeque<>();
    private final List<VcpuThread> vcpuThreads = new ArrayList<>();
    /** Timeline marks a benchmark reads (jvmm bench boot): keep the names. */
    public static final String VM_CREATED = "KVM VM created";
    public static final String MEMORY_MAPPED = "guest memory mapped";
    public static final String FIRST_KVM_RUN = "first KVM_RUN";

    private MmapGuestMemory memory;
    /** Resident guest RAM just before it was unmapped (the guest's touched memory), or -1. */
    private long guestResidentBytes = -1;
    private ConsoleOutput console;
    private ConsoleInput input;
    private ScheduledExecutorService flusher;
    private QueueNotifier notifier;
    private VirtioSetup virtio;
    private boolean started;
    private boolean closed;

    private Vm(MachineConfig config, Timeline timeline, PrintStream err) {
        this.config = config;
        this.timeline = timeline;
        this.err = err;
    }

    /**
     * Builds a VM for {@code payload} with the devices of {@code config}; nothing runs yet. On
     * failure everything made so far is closed again.
     */
    public static Vm build(MachineConfig config, Payload payload, Timeline timeline, PrintStream err, Events events,
                           InputStream stdin, OutputStream stdout)
            throws KernelLoadException, DeviceSetupException, InterruptedException {
        Vm vm = new Vm(config, timeline, err);
        try {
            vm.assemble(payload, events, stdin, stdout);
            return vm;
        } catch (KernelLoadException | DeviceSetupException | RuntimeException | Error e) {
            vm.close();
            throw e;
        }
    }

    private <T extends AutoCloseable> T own(T resource) {
        owned.push(resource);
        return resource;
    }

    /**
     * Starts writing an unpacked kernel's segments into guest memory on a thread of their own
     * (EarlyKernelWrite), while this one registers the memory and creates devices and vCPUs; the
     * loader waits for it. Owned after the memory, so teardown waits for it before unmapping. On
     * one CPU there is nothing to overlap with (the lab's L1), and the loader writes them itself.
     */
    private EarlyKernelWrite writeKernelEarly(Payload payload) {
        if (payload.unpackedKernel() == null || !SetupStep.worthOverlapping()) {
            return null;
        }
        try {
            return own(EarlyKernelWrite.start(payload.unpackedKernel(), payload.kernel(), memory));
        } catch (KernelLoadException refused) {
            // Nothing written: the loader refuses it below with the same words, and the boot
            // falls back to the bzImage as it is.
            return null;
        }
    }

    private void assemble(Payload payload, Events events, InputStream stdin, OutputStream stdout)
            throws KernelLoadException, DeviceSetupException {
        Architecture arch = Architectures.of(config.arch());
        KvmSystem kvm = own(KvmSystem.open()); // first: a host without KVM is told so before any work
        int maxVcpus = Math.max(kvm.checkExtension(KvmIoctls.KVM_CAP_MAX_VCPUS), kvm.checkExtension(KvmIoctls.KVM_CAP_NR_VCPUS));
        if (config.cpus() > maxVcpus) {
            throw new KernelLoadException("--cpus " + config.cpus() + " exceeds this KVM's limit of " + maxVcpus);
        }
        long ramBytes = (long) config.memoryMib() << 20;
        // Guest RAM before the VM: an unpacked kernel's write into it then overlaps the VM's creation too.
        memory = own(GuestMemory.mmap(arch.ram(ramBytes)));
        String unpacking = null;
        EarlyKernelWrite early = null;
        if (config.unpackKernel() && config.arch() == Arch.x86_64) {
            UnpackedKernels.Result unpacked = UnpackedKernels.forBoot(payload.kernel());
            payload = payload.withUnpackedKernel(unpacked.kernel());
            unpacking = unpacked.note();
            early = writeKernelEarly(payload);
        }
        KvmVm vm = own(kvm.createVm());
        Board board = arch.board(kvm, vm, new Architecture.Spec(config.cpus(), ramBytes, config.devices().discovery()));
        timeline.mark(VM_CREATED);
        // KVM needs the memory registered by the first KVM_RUN, not for the devices and vCPUs
        // made meanwhile (x86 only for now: arm64's vGIC set-up is untried alongside it).
        SetupStep<RuntimeException> registration = own(SetupStep.start("memory-slots",
                config.arch() == Arch.x86_64 && SetupStep.worthOverlapping(), new SetupStep.Action<RuntimeException>() {
                    @Override
                    public void run() {
                        vm.mapMemory(memory);
                    }
                }));
        timeline.mark(MEMORY_MAPPED);

        virtio = own(VirtioSetup.open(config.devices(), err));
        List<Placed> placed = virtio.place(board);
        List<KvmVcpu> vcpus = new ArrayList<>();
        for (int i = 0; i < config.cpus(); i++) {
            vcpus.add(vm.createVcpu(i));
        }
        board.vcpusCreated(vcpus);
        String format;
        try {
            format = board.load(memory, payload, placed);
        } catch (KernelLoadException e) {
            if (payload.unpackedKernel() == null || payload.unpackedKernel().file() == null) {
                throw e;
            }
            // The bzImage as it is: if it loads, the cache entry was at fault (damaged since it was
            // opened) and goes; if not, the fault is the boot's own, and that error stands.
            if (early != null) {
                early.close(); // done writing before the plain bzImage goes into the same memory
            }
            Payload plain = payload.withUnpackedKernel(null);
            format = board.load(memory, plain, placed);
            UnpackedKernels.forget(payload.unpackedKernel().file());
            payload = plain;
            unpacking = "the cached copy was refused (" + e.getMessage() + "): the guest unpacks it";
        }
        timeline.mark("kernel loaded (" + format + (unpacking == null ? "" : ", " + unpacking) + ")");
        // No lambdas or method references from here on (nor anywhere a VM starts): the first one
        // of a JVM links invokedynamic, which costs most of a second under the lab's TCG.
        for (KvmVcpu vcpu : vcpus) {
            board.setUpVcpu(vcpu);
        }
        board.interruptsReady();
        virtio.wire(memory, board);

        flusher = Executors.newSingleThreadScheduledExecutor(new ThreadFactory() {
            @Override
            public Thread newThread(Runnable r) {
                Thread t = new Thread(r, "console-flush");
                t.setDaemon(true);
                return t;
            }
        });
        console = new ConsoleOutput(stdout, timeline, new Consumer<String>() {
            @Override
            public void accept(String line) {
                events.consoleLine(line);
            }
        });
        console.flushWhenIdle(flusher);
        console.onOutputGone(new Runnable() {
            @Override
            public void run() {
                err.println("\r\njvmm: the console's output is closed; the guest runs on without it\r");
            }
        });
        Bus pio = new Bus("port I/O");
        Bus mmio = new Bus("MMIO");
        Serial16550 serial = board.attachPlatform(new Platform(pio, mmio, console, new PlatformPage.Events() {
            @Override
            public void guestReady() {
                timeline.markOnce("guest ready (boot timer)");
                events.guestReady();
            }

            @Override
            public void exitRequested(int status) {
                control.stop(StopReason.exitRegister(status));
            }
        }, new Consumer<StopReason>() {
            @Override
            public void accept(StopReason reason) {
                control.stop(reason);
            }
        }));
        virtio.insertInto(mmio);
        if (kvm.checkExtension(KvmIoctls.KVM_CAP_IOEVENTFD) > 0) {
            notifier = virtio.notifier(vm, new Consumer<Throwable>() {
                @Override
                public void accept(Throwable t) {
                    failed(t);
                }
            });
        }
        for (KvmVcpu vcpu : vcpus) {
            VcpuThread thread = new VcpuThread(vcpu, pio, mmio, control);
            thread.onFirstRun(new Runnable() {
                @Override
                public void run() {
                    timeline.markOnce(FIRST_KVM_RUN);
                }
            });
            thread.describeSystemEvents(new IntFunction<String>() {
                @Override
                public String apply(int type) {
                    return board.systemEvent(type);
                }
            });
            vcpuThreads.add(thread);
        }
        registration.await();
        input = new ConsoleInput(stdin, new BiPredicate<byte[], Integer>() {
            @Override
            public boolean test(byte[] b, Integer n) {
                return serial.enqueueInput(b, n);
            }
        }, new Runnable() {
            @Override
            public void run() {
                control.stop(StopReason.of(StopReason.Kind.USER_QUIT, "Ctrl-A x"));
            }
        }, config.escapeKey());
    }

    /** jvmm's own failure on a thread of the VM's: the VM stops with status 70 and says why. */
    private void failed(Throwable t) {
        control.stop(StopReason.of(StopReason.Kind.ERROR, t.getMessage() != null ? t.getMessage() : t.toString()));
    }

    /** Stops the VM from outside (an agent's answer, a host-side decision); the first reason wins. */
    public void stop(StopReason reason) {
        control.stop(reason);
    }

    /** Starts the vCPUs and waits for the VM to stop (or --timeout); returns why it stopped. */
    public StopReason run() throws InterruptedException {
        if (started) {
            throw new IllegalStateException("a VM runs once");
        }
        started = true;
        if (notifier != null) {
            notifier.start();
        }
        for (VcpuThread t : vcpuThreads) {
            t.start();
        }
        input.start();
        timeline.mark("vCPUs started (" + config.cpus() + ")");
        StopReason reason = control.await(config.timeoutSeconds() * 1000L);
        if (reason == null) {
            control.stop(StopReason.of(StopReason.Kind.TIMEOUT, "--timeout " + config.timeoutSeconds() + " s expired"));
            reason = control.reason();
        }
        ExitCounts exits = ExitCounts.NONE;
        for (VcpuThread t : vcpuThreads) {
            exits = exits.plus(t.exitCounts());
        }
        timeline.mark("VM stopped: " + reason.detail() + " (" + exits + ")");
        return reason;
    }

    /**
     * A stream for output from the host's side of the guest (the agent's --exec stdout): its
     * lines reach the console whole, between the guest's own lines.
     */
    public OutputStream consoleLines() {
        return new LineStream(console);
    }

    /** Guest RAM that was resident when the VM closed (what the guest touched), or -1 before close or if unknown. */
    public long guestResidentBytes() {
        return guestResidentBytes;
    }

    /** Per-device counters, by device name. */
    public Map<String, Map<String, Long>> metrics() {
        return virtio == null ? Map.of() : virtio.metrics();
    }

    /**
     * Stops the threads first (vCPUs, console input, flusher, queue notifier), then closes what
     * was made in reverse order: devices (each stops its own threads), the memory-slot step (waited
     * for), the VM, the early kernel write (waited for), guest memory, KVM.
     * Guest memory is unmapped only once nothing can still be writing into it: if the notifier
     * will not stop, the memory is left mapped (the process is about to end) rather than risk a
     * SIGSEGV in a request still in flight.
     */
    @Override
    public void close() throws InterruptedException {
        if (closed) {
            return;
        }
        closed = true;
        control.stop(StopReason.of(StopReason.Kind.ERROR, "teardown"));
        for (VcpuThread t : vcpuThreads) {
            if (!t.stopAndJoin(5000)) {
                err.println("jvmm: a vCPU thread did not stop within 5 s: " + t.whereStuck());
            }
        }
        if (input != null) {
            input.stopAndJoin();
        }
        if (flusher != null) {
            flusher.shutdownNow();
            flusher.awaitTermination(1, TimeUnit.SECONDS);
        }
        if (console != null) {
            console.flush();
        }
        boolean quiet = notifier == null || notifier.stop(QueueNotifier.STOP_MILLIS);
        if (!quiet) {
            err.println("jvmm: the virtio notifier is still serving a request after " + QueueNotifier.STOP_MILLIS / 1000
                    + " s; guest memory stays mapped until jvmm exits");
        }
        if (memory != null) {
            guestResidentBytes = memory.residentBytes();
        }
        while (!owned.isEmpty()) {
            AutoCloseable r = owned.pop();
            if (!quiet && r instanceof MmapGuestMemory) {
                continue;
            }
            try {
                r.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                err.println("jvmm: closing " + r.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
    }
}
