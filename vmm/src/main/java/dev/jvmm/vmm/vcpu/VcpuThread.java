package dev.jvmm.vmm.vcpu;

import dev.jvmm.vmm.bus.Bus;
import dev.jvmm.vmm.kvm.KvmVcpu;
import dev.jvmm.vmm.sys.Errno;
import dev.jvmm.vmm.sys.KvmIoctls;
import dev.jvmm.vmm.sys.Syscalls;

import java.nio.ByteBuffer;
import java.util.function.IntFunction;

/**
 * Runs one vCPU: KVM_RUN in a loop, port I/O and MMIO exits dispatched to the buses, every
 * other exit turned into a {@link StopReason}. Stopped by a kick: immediate_exit set, then a
 * signal to the thread so a KVM_RUN in progress returns EINTR.
 */
public final class VcpuThread implements Runnable {
    /** The signal that interrupts KVM_RUN; the JVM's handler for it does nothing of note. */
    static final int KICK_SIGNAL = 10; // SIGUSR1

    private static volatile boolean kickHandlerInstalled;

    private final KvmVcpu vcpu;
    private final Bus pio;
    private final Bus mmio;
    private final RunControl control;
    private final Thread thread;
    private volatile long nativeThread;
    // Written by this thread only; volatile so that the VM's stop line reads current counts.
    private volatile long ioExits;
    private volatile long mmioExits;
    private volatile long interruptedExits;
    private volatile long otherExits;
    // Inner classes, not lambdas, on every path a VM starts by: the first lambda of a JVM links
    // invokedynamic, about 0.3 s of the lab's set-up under TCG.
    private volatile Runnable onFirstRun = NOTHING;
    private volatile IntFunction<String> systemEventDetail = NO_DETAIL;
    private static final Runnable NOTHING = new Runnable() {
        @Override
        public void run() {
        }
    };
    private static final IntFunction<String> NO_DETAIL = new IntFunction<String>() {
        @Override
        public String apply(int type) {
            return null;
        }
    };

    private final boolean haltStopsVm;

    public VcpuThread(KvmVcpu vcpu, Bus pio, Bus mmio, RunControl control) {
        this(vcpu, pio, mmio, control, true);
    }

    /**
     * With {@code haltStopsVm} false, a HLT exit (only seen without an in-kernel irqchip) ends
     * this vCPU alone; tiny test guests use that to finish one vCPU at a time.
     */
    public VcpuThread(KvmVcpu vcpu, Bus pio, Bus mmio, RunControl control, boolean haltStopsVm) {
        this.haltStopsVm = haltStopsVm;
        this.vcpu = vcpu;
        this.pio = pio;
        this.mmio = mmio;
        this.control = control;
        this.thread = new Thread(this, "vcpu-" + vcpu.id());
        this.thread.setDaemon(true);
        installKickHandler();
    }

    private static synchronized void installKickHandler() {
        if (!kickHandlerInstalled) {
            // A handler must exist so the signal interrupts the ioctl instead of killing the JVM.
            sun.misc.Signal.handle(new sun.misc.Signal("USR1"), new sun.misc.SignalHandler() {
                @Override
                public void handle(sun.misc.Signal sig) {
                }
            });
            kickHandlerInstalled = true;
        }
    }

    /** {@code hook} runs on the vCPU thread just before its first KVM_RUN (a boot-timeline mark). */
    public void onFirstRun(Runnable hook) {
        onFirstRun = hook;
    }

    /**
     * How a KVM system event of each type reads in the stop reason (arm64: "PSCI SYSTEM_OFF");
     * where {@code detail} gives null, the generic wording stays.
     */
    public void describeSystemEvents(IntFunction<String> detail) {
        systemEventDetail = detail;
    }

    public void start() {
        thread.start();
    }

    public boolean join(long millis) throws InterruptedException {
        thread.join(millis);
        return !thread.isAlive();
    }

    /** KVM_RUN's returns so far, by kind (read after the thread has ended for an exact count). */
    public ExitCounts exitCounts() {
        return new ExitCounts(ioExits, mmioExits, interruptedExits, otherExits);
    }

    @Override
    public void run() {
        nativeThread = Syscalls.currentThreadHandle();
        ByteBuffer runPage = vcpu.runPage();
        byte[][] scratch = {null, new byte[1], new byte[2], null, new byte[4], null, null, null, new byte[8]};
        try {
            onFirstRun.run();
            while (!control.isStopped()) {
                int reason = vcpu.run();
                if (reason < 0) {
                    if (-reason == Errno.EINTR || -reason == Errno.EAGAIN) {
                        interruptedExits++;
                        continue;
                    }
                    otherExits++;
                    control.stop(StopReason.of(StopReason.Kind.ERROR, "KVM_RUN failed: " + Errno.describe(-reason)));
                    break;
                }
                if (reason == KvmIoctls.KVM_EXIT_IO) {
                    ioExits++;
                } else if (reason == KvmIoctls.KVM_EXIT_MMIO) {
                    mmioExits++;
                } else if (reason == KvmIoctls.KVM_EXIT_INTR) {
                    interruptedExits++;
                } else {
                    otherExits++;
                }
                switch (reason) {
                    case KvmIoctls.KVM_EXIT_IO -> handleIo(runPage, scratch);
                    case KvmIoctls.KVM_EXIT_MMIO -> handleMmio(runPage, scratch);
                    case KvmIoctls.KVM_EXIT_HLT -> {
                        if (!haltStopsVm) {
                            return;
                        }
                        control.stop(StopReason.of(StopReason.Kind.POWER_OFF,
                                "vCPU " + vcpu.id() + " halted with no irqchip to wake it"));
                    }
                    case KvmIoctls.KVM_EXIT_SHUTDOWN -> control.stop(StopReason.of(StopReason.Kind.TRIPLE_FAULT,
                            "vCPU " + vcpu.id() + " triple-faulted (KVM_EXIT_SHUTDOWN)"));
                    case KvmIoctls.KVM_EXIT_SYSTEM_EVENT -> handleSystemEvent(runPage);
                    case KvmIoctls.KVM_EXIT_INTR -> { }
                    case KvmIoctls.KVM_EXIT_FAIL_ENTRY -> control.stop(StopReason.of(StopReason.Kind.ERROR, String.format(
                            "vCPU %d: KVM_EXIT_FAIL_ENTRY, hardware reason 0x%x", vcpu.id(),
                            runPage.getLong(KvmIoctls.RUN_FAIL_ENTRY_REASON))));
                    case KvmIoctls.KVM_EXIT_INTERNAL_ERROR -> control.stop(StopReason.of(StopReason.Kind.ERROR,
                            describeInternalError(runPage)));
                    default -> control.stop(StopReason.of(StopReason.Kind.ERROR,
                            "vCPU " + vcpu.id() + ": unhandled KVM exit reason " + reason + ripSuffix()));
                }
            }
        } catch (Throwable e) { // an Error too: a vCPU thread never dies leaving the VM to its timeout
            control.stop(StopReason.of(StopReason.Kind.ERROR, "vCPU " + vcpu.id() + ": " + e));
        }
    }

    private String ripSuffix() {
        try {
            return String.format(" at rip 0x%x", vcpu.getRegs()[16]);
        } catch (RuntimeException e) {
            return "";
        }
    }

    private String describeInternalError(ByteBuffer runPage) {
        int sub = runPage.getInt(KvmIoctls.RUN_INTERNAL_SUBERROR);
        String what = sub == 1 ? "instruction emulation failed" : "suberror " + sub;
        return "vCPU " + vcpu.id() + ": KVM internal error, " + what + ripSuffix();
    }

    private void handleIo(ByteBuffer runPage, byte[][] scratch) {
        boolean out = runPage.get(KvmIoctls.RUN_IO_DIRECTION) == 1;
        int size = runPage.get(KvmIoctls.RUN_IO_SIZE);
        int port = runPage.getShort(KvmIoctls.RUN_IO_PORT) & 0xffff;
        int count = runPage.getInt(KvmIoctls.RUN_IO_COUNT);
        int dataOffset = (int) runPage.getLong(KvmIoctls.RUN_IO_DATA_OFFSET);
        if (size != 1 && size != 2 && size != 4) {
            throw new IllegalStateException("port I/O of size " + size);
        }
        byte[] data = scratch[size];
        for (int i = 0; i < count; i++) {
            int at = dataOffset + i * size;
            if (out) {
                runPage.get(at, data);
                pio.write(port, data);
            } else {
                pio.read(port, data);
                runPage.put(at, data);
            }
        }
    }

    private void handleMmio(ByteBuffer runPage, byte[][] scratch) {
        long addr = runPage.getLong(KvmIoctls.RUN_MMIO_PHYS_ADDR);
        int len = runPage.getInt(KvmIoctls.RUN_MMIO_LEN);
        boolean write = runPage.get(KvmIoctls.RUN_MMIO_IS_WRITE) != 0;
        if (len != 1 && len != 2 && len != 4 && len != 8) {
            throw new IllegalStateException("MMIO access of length " + len);
        }
        byte[] data = scratch[len];
        if (write) {
            runPage.get(KvmIoctls.RUN_MMIO_DATA, data);
            mmio.write(addr, data);
        } else {
            mmio.read(addr, data);
            runPage.put(KvmIoctls.RUN_MMIO_DATA, data);
        }
    }

    private void handleSystemEvent(ByteBuffer runPage) {
        int type = runPage.getInt(KvmIoctls.RUN_SYSTEM_EVENT_TYPE);
        String detail = systemEventDetail.apply(type);
        switch (type) {
            case KvmIoctls.KVM_SYSTEM_EVENT_SHUTDOWN -> control.stop(StopReason.of(StopReason.Kind.POWER_OFF,
                    detail != null ? detail : "KVM shutdown event"));
            case KvmIoctls.KVM_SYSTEM_EVENT_RESET -> control.stop(StopReason.of(StopReason.Kind.RESET,
                    detail != null ? detail : "KVM reset event"));
            default -> control.stop(StopReason.of(StopReason.Kind.ERROR, "KVM system event " + type));
        }
    }

    /** Makes the vCPU leave KVM_RUN; call repeatedly until {@link #join} succeeds. */
    public void kick() {
        vcpu.setImmediateExit(true);
        long t = nativeThread;
        if (t != 0 && thread.isAlive()) {
            try {
                Syscalls.signalThread(t, KICK_SIGNAL);
            } catch (RuntimeException ignored) {
                // The thread exited between the check and the signal.
            }
        }
    }

    /**
     * Where a thread that will not stop is: inside KVM_RUN (a native ioctl frame on top) or
     * waiting in Java. For the one-line diagnosis when teardown times out.
     */
    public String whereStuck() {
        StackTraceElement[] st = thread.getStackTrace();
        StringBuilder sb = new StringBuilder(thread.getName()).append(' ').append(thread.getState());
        for (int i = 0; i < Math.min(6, st.length); i++) {
            sb.append(i == 0 ? " at " : " < ").append(st[i].getClassName().replaceAll(".*\\.", "")).append('.')
                    .append(st[i].getMethodName());
        }
        return sb.toString();
    }

    /** Kicks until the thread ends or {@code millis} pass; returns whether it ended. */
    public boolean stopAndJoin(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (thread.isAlive() && System.nanoTime() < deadline) {
            kick();
            thread.join(20);
        }
        return !thread.isAlive();
    }
}
