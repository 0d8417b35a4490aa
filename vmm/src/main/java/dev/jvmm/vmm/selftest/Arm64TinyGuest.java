package dev.jvmm.vmm.selftest;

import dev.jvmm.vmm.arm64.Arm64Gic;
import dev.jvmm.vmm.arm64.Arm64Kvm;
import dev.jvmm.vmm.arm64.Arm64KvmOps;
import dev.jvmm.vmm.arm64.Arm64Vcpus;
import dev.jvmm.vmm.kvm.KvmSystem;
import dev.jvmm.vmm.kvm.KvmVcpu;
import dev.jvmm.vmm.kvm.KvmVm;
import dev.jvmm.vmm.memory.GuestMemory;
import dev.jvmm.vmm.memory.MemoryRegion;
import dev.jvmm.vmm.memory.MmapGuestMemory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A ten-instruction arm64 guest through jvmm's own arm64 set-up ({@link Arm64Vcpus},
 * {@link Arm64Gic}) and KVM_RUN: it writes 0x42 to an MMIO address, reads the next word (this
 * answers 0x17), writes what it read plus one, and powers off with PSCI SYSTEM_OFF. Proves on
 * an arm64 KVM (the arm64 lab's L1) that the vCPU, GIC, memory slot, MMIO exits both ways and
 * PSCI reach jvmm as they should, before any kernel boots.
 */
public final class Arm64TinyGuest {
    public static final long RAM_BASE = 0x8000_0000L;
    public static final long RAM_SIZE = 2L << 20;
    public static final long MMIO = 0x4000_0000L;
    public static final int READ_ANSWER = 0x17;
    /** At most this many exits: the guest makes four. */
    static final int MAX_EXITS = 16;

    /**
     * mov x1, #0x42; mov x0, #0x40000000; str w1, [x0]; ldr w2, [x0, #4]; add w2, w2, #1;
     * str w2, [x0, #8]; mov w0, #8; movk w0, #0x8400, lsl #16 (PSCI SYSTEM_OFF); hvc #0; b .
     */
    public static final int[] CODE = {0xd2800841, 0xd2a80000, 0xb9000001, 0xb9400402, 0x11000442, 0xb9000802,
            0x52800100, 0x72b08000, 0xd4000002, 0x14000000};

    /** What the guest did, exit by exit, and the GIC version made. */
    public record Outcome(List<String> exits, int gicVersion, int[] preferredTarget) {
        /** The four exits the code makes, in order. */
        public static List<String> expected() {
            return List.of(String.format("mmio write 0x%x 4 0x42", MMIO), String.format("mmio read 0x%x 4", MMIO + 4),
                    String.format("mmio write 0x%x 4 0x%x", MMIO + 8, READ_ANSWER + 1), "system event shutdown");
        }

        public boolean passed() {
            return exits.equals(expected());
        }
    }

    private Arm64TinyGuest() {}

    static byte[] code() {
        ByteBuffer b = ByteBuffer.allocate(CODE.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int insn : CODE) {
            b.putInt(insn);
        }
        return b.array();
    }

    /** Runs the guest on {@code kvm} (an arm64 KVM) in a VM of its own. */
    public static Outcome run(KvmSystem kvm) {
        try (MmapGuestMemory mem = GuestMemory.mmap(List.of(new MemoryRegion(RAM_BASE, RAM_SIZE)));
             KvmVm vm = kvm.createVm()) {
            vm.mapMemory(mem);
            mem.write(RAM_BASE, code());
            KvmVcpu vcpu = vm.createVcpu(0);
            // The order KVM wants: vCPUs, then the GIC, then each vCPU's init, then the GIC's init.
            Arm64Gic gic = Arm64Gic.create(Arm64KvmOps.of(vm), 1,
                    new Arm64Gic.Placement(0x3fff_0000L, 0x3ffd_0000L, 0x3fff_0000L, 0x3ffe_0000L, 64), false);
            int[] preferred = vm.armPreferredTarget();
            Arm64Vcpus.configure(Arm64KvmOps.of(vcpu), preferred, RAM_BASE, 0);
            gic.initialize();
            List<String> exits = new ArrayList<>();
            ByteBuffer run = vcpu.runPage();
            for (int i = 0; i < MAX_EXITS; i++) {
                int reason = vcpu.run();
                if (reason == Arm64Kvm.KVM_EXIT_MMIO) {
                    long addr = run.getLong(Arm64Kvm.RUN_MMIO_PHYS_ADDR);
                    int len = run.getInt(Arm64Kvm.RUN_MMIO_LEN);
                    if (run.get(Arm64Kvm.RUN_MMIO_IS_WRITE) != 0) {
                        exits.add(String.format("mmio write 0x%x %d 0x%x", addr, len, run.getInt(Arm64Kvm.RUN_MMIO_DATA)));
                    } else {
                        exits.add(String.format("mmio read 0x%x %d", addr, len));
                        run.putLong(Arm64Kvm.RUN_MMIO_DATA, READ_ANSWER);
                    }
                } else if (reason == Arm64Kvm.KVM_EXIT_SYSTEM_EVENT) {
                    int type = run.getInt(Arm64Kvm.RUN_SYSTEM_EVENT_TYPE);
                    exits.add(type == Arm64Kvm.KVM_SYSTEM_EVENT_SHUTDOWN ? "system event shutdown"
                            : "system event " + type);
                    break;
                } else {
                    exits.add("exit " + reason);
                    break;
                }
            }
            return new Outcome(List.copyOf(exits), gic.version(), preferred);
        }
    }
}
