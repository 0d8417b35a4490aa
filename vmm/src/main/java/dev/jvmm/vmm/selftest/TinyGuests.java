package dev.jvmm.vmm.selftest;

import dev.jvmm.vmm.bus.Bus;
import dev.jvmm.vmm.bus.BusDevice;
import dev.jvmm.vmm.kvm.CpuidEntries;
import dev.jvmm.vmm.kvm.KvmSystem;
import dev.jvmm.vmm.kvm.KvmVcpu;
import dev.jvmm.vmm.kvm.KvmVm;
import dev.jvmm.vmm.memory.GuestMemory;
import dev.jvmm.vmm.memory.MemoryRegion;
import dev.jvmm.vmm.memory.MmapGuestMemory;
import dev.jvmm.vmm.vcpu.RunControl;
import dev.jvmm.vmm.vcpu.StopReason;
import dev.jvmm.vmm.vcpu.VcpuThread;
import dev.jvmm.vmm.x86.X86Vcpu;
import dev.jvmm.vmm.x86.XsaveCpuid;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Tiny hand-assembled real-mode guests that exercise the KVM plumbing end to end: port I/O,
 * MMIO, HLT, guest memory seen from both sides, several vCPUs, CPUID. Each runs in a VM of
 * its own with 64 KiB of RAM and no irqchip, so HLT comes back to jvmm.
 */
public final class TinyGuests {
    public static final int CODE = 0x1000;
    public static final long RAM = 0x10000;
    public static final long MMIO_BASE = 0x20000;

    /** The outcome of one check. */
    public record Check(String name, boolean passed, String detail) {}

    /** A bus device that records writes as "offset=value" and answers reads with a fixed byte. */
    public static final class Recorder implements BusDevice {
        public final List<String> writes = new ArrayList<>();
        private final int readValue;

        public Recorder(int readValue) {
            this.readValue = readValue;
        }

        @Override
        public synchronized void read(long offset, byte[] data) {
            java.util.Arrays.fill(data, (byte) 0);
            data[0] = (byte) readValue;
        }

        @Override
        public synchronized void write(long offset, byte[] data) {
            long v = 0;
            for (int i = data.length - 1; i >= 0; i--) {
                v = (v << 8) | (data[i] & 0xff);
            }
            writes.add(String.format("%x=%x", offset, v));
        }

        public synchronized List<String> snapshot() {
            return List.copyOf(writes);
        }
    }

    private TinyGuests() {}

    static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    /** out 0x10,al; in al,0x11; out 0x12,al; hlt — with al = 0x42 first. */
    public static final byte[] PORT_IO = bytes(0xb0, 0x42, 0xe6, 0x10, 0xe4, 0x11, 0xe6, 0x12, 0xf4);
    /** ds = 0x2000; [0x10] = 0x5a; al = [0x20]; out 0x12, al; hlt. */
    public static final byte[] MMIO = bytes(0xb8, 0x00, 0x20, 0x8e, 0xd8, 0xc6, 0x06, 0x10, 0x00, 0x5a, 0xa0, 0x20,
            0x00, 0xe6, 0x12, 0xf4);
    /** ax = [0x8000]; ax += 1; [0x8002] = ax; hlt. */
    public static final byte[] MEMORY = bytes(0xa1, 0x00, 0x80, 0x05, 0x01, 0x00, 0xa3, 0x02, 0x80, 0xf4);
    /** eax = 0x40000000; cpuid; out 0x10, ebx (as eax); hlt. */
    public static final byte[] CPUID = bytes(0x66, 0xb8, 0x00, 0x00, 0x00, 0x40, 0x0f, 0xa2, 0x66, 0x89, 0xd8, 0x66,
            0xe7, 0x10, 0xf4);

    /** cr4 |= OSXSAVE; xsetbv with ecx = 0, edx:eax = 3 (XCR0 = x87 | SSE); hlt. */
    public static final byte[] XSETBV = bytes(0x0f, 0x20, 0xe0, 0x66, 0x0d, 0x00, 0x00, 0x04, 0x00, 0x0f, 0x22, 0xe0,
            0x66, 0x31, 0xc9, 0x66, 0x31, 0xd2, 0x66, 0xb8, 0x03, 0x00, 0x00, 0x00, 0x0f, 0x01, 0xd1, 0xf4);

    /** al = id; out 0x10, al; hlt. */
    static byte[] announce(int id) {
        return bytes(0xb0, id, 0xe6, 0x10, 0xf4);
    }

    /** ecx = n; loop: out 0x10, al; loop (32-bit ecx); hlt. */
    public static byte[] portWriteLoop(int n) {
        return bytes(0x66, 0xb9, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff, 0xe6, 0x10, 0x67,
                0xe2, 0xfb, 0xf4);
    }

    /** One tiny VM: memory, buses and N vCPUs each starting at its own code address. */
    public static final class TinyVm implements AutoCloseable {
        public final KvmVm vm;
        public final MmapGuestMemory memory;
        public final Bus pio = new Bus("pio");
        public final Bus mmio = new Bus("mmio");
        public final List<KvmVcpu> vcpus = new ArrayList<>();

        public TinyVm(KvmSystem kvm, int vcpuCount) {
            vm = kvm.createVm();
            MmapGuestMemory mem = null;
            try {
                mem = GuestMemory.mmap(List.of(new MemoryRegion(0, RAM)));
                vm.mapMemory(mem);
                vm.setTssAddress(0xfffbd000L);
                for (int i = 0; i < vcpuCount; i++) {
                    vcpus.add(vm.createVcpu(i));
                }
            } catch (RuntimeException e) {
                vm.close();
                if (mem != null) {
                    mem.close();
                }
                throw e;
            }
            memory = mem;
        }

        /** Starts vCPU i at {@code codeAddress[i]} and waits until all halt; returns the stop, if any. */
        public StopReason runToHalt(int[] codeAddresses, long timeoutMillis) throws InterruptedException {
            RunControl control = new RunControl();
            List<VcpuThread> threads = new ArrayList<>();
            for (int i = 0; i < vcpus.size(); i++) {
                X86Vcpu.setRealMode(vcpus.get(i), codeAddresses[i]);
                threads.add(new VcpuThread(vcpus.get(i), pio, mmio, control, false));
            }
            threads.forEach(VcpuThread::start);
            long deadline = System.currentTimeMillis() + timeoutMillis;
            for (VcpuThread t : threads) {
                if (!t.join(Math.max(1, deadline - System.currentTimeMillis()))) {
                    control.stop(StopReason.of(StopReason.Kind.TIMEOUT, "tiny guest did not halt in " + timeoutMillis + " ms"));
                }
            }
            for (VcpuThread t : threads) {
                t.stopAndJoin(2000);
            }
            return control.reason();
        }

        @Override
        public void close() {
            vm.close();
            memory.close();
        }
    }

    private static Check run(String name, KvmSystem kvm, int cpus, Consumer<TinyVm> setup,
                             java.util.function.Function<TinyVm, String> verdict) {
        try (TinyVm t = new TinyVm(kvm, cpus)) {
            setup.accept(t);
            int[] starts = new int[cpus];
            for (int i = 0; i < cpus; i++) {
                starts[i] = CODE + 0x100 * i;
            }
            StopReason stop = t.runToHalt(starts, 10_000);
            if (stop != null) {
                return new Check(name, false, stop.detail());
            }
            String problem = verdict.apply(t);
            return new Check(name, problem == null, problem == null ? "ok" : problem);
        } catch (RuntimeException | InterruptedException e) {
            return new Check(name, false, e.toString());
        }
    }

    public static List<Check> runAll(KvmSystem kvm) {
        return List.of(portIoCheck(kvm), mmioCheck(kvm), memoryCheck(kvm), twoVcpuCheck(kvm));
    }

    private static Check portIoCheck(KvmSystem kvm) {
        Recorder dev = new Recorder(0x99);
        return run("port I/O", kvm, 1, t -> {
            t.pio.insert(dev, 0x10, 4);
            t.memory.write(CODE, PORT_IO);
        }, t -> expect(dev.snapshot(), List.of("0=42", "2=99")));
    }

    private static Check mmioCheck(KvmSystem kvm) {
        Recorder dev = new Recorder(0x77);
        Recorder port = new Recorder(0);
        return run("MMIO", kvm, 1, t -> {
            t.mmio.insert(dev, MMIO_BASE, 0x1000);
            t.pio.insert(port, 0x12, 1);
            t.memory.write(CODE, MMIO);
        }, t -> {
            String a = expect(dev.snapshot(), List.of("10=5a"));
            return a != null ? a : expect(port.snapshot(), List.of("0=77"));
        });
    }

    private static Check memoryCheck(KvmSystem kvm) {
        return run("guest memory both ways", kvm, 1, t -> {
            t.memory.write16(0x8000, 0x1234);
            t.memory.write(CODE, MEMORY);
        }, t -> t.memory.read16(0x8002) == 0x1235 ? null
                : String.format("guest wrote 0x%x, expected 0x1235", t.memory.read16(0x8002)));
    }

    private static Check twoVcpuCheck(KvmSystem kvm) {
        Recorder dev = new Recorder(0);
        return run("two vCPUs", kvm, 2, t -> {
            t.pio.insert(dev, 0x10, 1);
            t.memory.write(CODE, announce(0xa0));
            t.memory.write(CODE + 0x100, announce(0xa1));
        }, t -> {
            List<String> w = new ArrayList<>(dev.snapshot());
            java.util.Collections.sort(w);
            return expect(w, List.of("0=a0", "0=a1"));
        });
    }

    private static String expect(List<String> got, List<String> want) {
        return got.equals(want) ? null : "saw " + got + ", expected " + want;
    }

    /**
     * Whether KVM_SET_CPUID2 decides what the guest's CPUID returns: true on hardware KVM,
     * false where CPUID is not intercepted (PVM).
     */
    public static boolean cpuidIsVirtualized(KvmSystem kvm) throws InterruptedException {
        try (TinyVm t = new TinyVm(kvm, 1)) {
            Recorder rec = new Recorder(0);
            t.pio.insert(rec, 0x10, 4);
            t.memory.write(CODE, CPUID);
            CpuidEntries cpuid = kvm.supportedCpuid();
            cpuid.entries().removeIf(e -> e.function == 0x40000000);
            cpuid.entries().add(new CpuidEntries.Entry(0x40000000, 0, 0, 0x40000000, 0x4d4d564a, 0, 0));
            t.vcpus.get(0).setCpuid(cpuid);
            StopReason stop = t.runToHalt(new int[] {CODE}, 10_000);
            if (stop != null) {
                return false;
            }
            return rec.snapshot().equals(List.of("0=4d4d564a"));
        }
    }

    /**
     * Whether KVM learns of a guest's XSETBV: true on hardware KVM; false in the lab, where QEMU
     * 7.2's TCG does not give XSETBV to the nested hypervisor (KVM's XCR0 stays x87 only, which is
     * why jvmm sets XCR0 itself: XsaveCpuid). Null when the CPU has no XSAVE.
     */
    public static Boolean xsetbvReachesKvm(KvmSystem kvm) throws InterruptedException {
        CpuidEntries cpuid = kvm.supportedCpuid();
        if (XsaveCpuid.guestXcr0(cpuid) == 0) {
            return null;
        }
        try (TinyVm t = new TinyVm(kvm, 1)) {
            t.vcpus.get(0).setCpuid(cpuid);
            t.memory.write(CODE, XSETBV);
            StopReason stop = t.runToHalt(new int[] {CODE}, 10_000);
            if (stop != null) {
                throw new IllegalStateException("the XSETBV guest did not halt: " + stop.detail());
            }
            return t.vcpus.get(0).getXcr0() == 3;
        }
    }

    /** Runs {@link #portWriteLoop} with {@code n} writes; returns exits per second. */
    public static double exitsPerSecond(KvmSystem kvm, int n) throws InterruptedException {
        try (TinyVm t = new TinyVm(kvm, 1)) {
            long[] count = new long[1];
            t.pio.insert(new BusDevice() {
                @Override
                public void read(long offset, byte[] data) { }

                @Override
                public void write(long offset, byte[] data) {
                    count[0]++;
                }
            }, 0x10, 1);
            t.memory.write(CODE, portWriteLoop(n));
            long start = System.nanoTime();
            StopReason stop = t.runToHalt(new int[] {CODE}, 600_000);
            long ns = System.nanoTime() - start;
            if (stop != null || count[0] != n) {
                throw new IllegalStateException("exit loop saw " + count[0] + " of " + n + " writes: " + stop);
            }
            return n / (ns / 1e9);
        }
    }
}
