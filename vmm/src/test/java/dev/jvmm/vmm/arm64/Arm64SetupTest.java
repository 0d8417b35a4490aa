package dev.jvmm.vmm.arm64;

import dev.jvmm.vmm.kvm.KvmException;
import dev.jvmm.vmm.sys.Errno;
import dev.jvmm.vmm.sys.SyscallException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The arm64 register set-up and the vCPU and GIC set-up sequences, against recording stand-ins
 * for KVM: which ioctls, in which order, with which values, and what happens when KVM refuses.
 */
class Arm64SetupTest {
    /** Records every call as a line of text; KVM's answers are scripted. */
    static class Recorder implements Arm64KvmOps.Vm {
        final List<String> calls = new ArrayList<>();
        final List<Integer> missingTypes = new ArrayList<>();
        int[] preferred = {Arm64Kvm.KVM_ARM_TARGET_GENERIC_V8, 0, 0, 0, 0, 0, 0, 0};

        @Override
        public int[] preferredTarget() {
            calls.add("preferred");
            return preferred.clone();
        }

        @Override
        public Arm64KvmOps.Device createDevice(int type) {
            calls.add("create " + type);
            if (missingTypes.contains(type)) {
                throw new SyscallException("KVM_CREATE_DEVICE", Errno.ENODEV);
            }
            return (group, attr, value, width, what) -> calls.add(String.format("attr %d/%d = 0x%x (%d bytes)", group, attr,
                    value, width));
        }

        Arm64KvmOps.Vcpu vcpu(int id, long mpidrRegister) {
            return new Arm64KvmOps.Vcpu() {
                @Override
                public int id() {
                    return id;
                }

                @Override
                public void init(int[] init) {
                    calls.add("init " + id + " " + Arrays.toString(init));
                }

                @Override
                public void setOneReg(long reg, long value) {
                    calls.add(String.format("set %d 0x%x = 0x%x", id, reg, value));
                }

                @Override
                public long getOneReg(long reg) {
                    calls.add(String.format("get %d 0x%x", id, reg));
                    return reg == Arm64Kvm.REG_MPIDR_EL1 ? mpidrRegister : 0;
                }
            };
        }
    }

    static final Arm64Gic.Placement PLACE = new Arm64Gic.Placement(0x3fff0000L, 0x3ffb0000L, 0x3ffff000L, 0x3fffd000L, 128);

    @Test
    void theBootVcpuGetsPstatePcAndTheDeviceTreeInX0() {
        List<Arm64Registers.Write> w = Arm64Registers.bootVcpu(0x80000000L, 0x8fe00000L);
        assertEquals(List.of("pstate", "pc", "x0", "x1", "x2", "x3"), w.stream().map(Arm64Registers.Write::name).toList());
        assertEquals(0x3c5, w.get(0).value(), "EL1h with D, A, I, F masked");
        assertEquals(0x6030000000100042L, w.get(0).id(), "pstate: core register at byte 264 (word 0x42)");
        assertEquals(0x6030000000100040L, w.get(1).id(), "pc: core register at byte 256 (word 0x40)");
        assertEquals(0x80000000L, w.get(1).value());
        assertEquals(0x6030000000100000L, w.get(2).id(), "x0: core register 0");
        assertEquals(0x8fe00000L, w.get(2).value());
        assertEquals(0x6030000000100002L, w.get(3).id(), "x1: word 2");
        assertEquals(List.of(0L, 0L, 0L), w.subList(3, 6).stream().map(Arm64Registers.Write::value).toList());
        assertThrows(IllegalArgumentException.class, () -> Arm64Registers.bootVcpu(0x80000002L, 0x8fe00000L));
        assertThrows(IllegalArgumentException.class, () -> Arm64Registers.bootVcpu(0x80000000L, 0x8fe00004L));
    }

    @Test
    void secondariesAreOnlyGivenPstateAndStartPoweredOff() {
        assertEquals(List.of(new Arm64Registers.Write("pstate", Arm64Kvm.REG_PSTATE, 0x3c5)), Arm64Registers.secondaryVcpu());
        assertEquals(0b100, Arm64Registers.initFeatures(true), "PSCI 0.2");
        assertEquals(0b101, Arm64Registers.initFeatures(false), "PSCI 0.2 and POWER_OFF");
    }

    @Test
    void mpidrFollowsKvmsAffinityPacking() {
        assertEquals(0, Arm64Registers.mpidr(0));
        assertEquals(15, Arm64Registers.mpidr(15));
        assertEquals(0x100, Arm64Registers.mpidr(16), "16 CPUs per Aff0 (GICv3 SGI target lists)");
        assertEquals(0x1f0f, Arm64Registers.mpidr(0x1ff));
        assertEquals(0x10000, Arm64Registers.mpidr(0x1000));
        assertEquals(Arm64Kvm.sysReg(3, 0, 0, 0, 5), Arm64Kvm.REG_MPIDR_EL1);
    }

    @Test
    void vcpusAreInitialisedBeforeTheirRegistersAreWritten() {
        Recorder r = new Recorder();
        int[] preferred = r.preferredTarget();
        Arm64Vcpus.configure(r.vcpu(0, 0x80000000L), preferred, 0x80000000L, 0x8fe00000L);
        Arm64Vcpus.configure(r.vcpu(1, 0x80000001L), preferred, 0x80000000L, 0x8fe00000L);
        assertEquals(List.of("preferred",
                "init 0 [5, 4, 0, 0, 0, 0, 0, 0]",
                "get 0 0x603000000013c005",
                "set 0 0x6030000000100042 = 0x3c5",
                "set 0 0x6030000000100040 = 0x80000000",
                "set 0 0x6030000000100000 = 0x8fe00000",
                "set 0 0x6030000000100002 = 0x0",
                "set 0 0x6030000000100004 = 0x0",
                "set 0 0x6030000000100006 = 0x0",
                "init 1 [5, 5, 0, 0, 0, 0, 0, 0]",
                "get 1 0x603000000013c005",
                "set 1 0x6030000000100042 = 0x3c5"), r.calls);
        assertArrayEquals(new int[] {5, 0, 0, 0, 0, 0, 0, 0}, preferred, "the VM's answer is not changed");
    }

    @Test
    void aVcpuWhoseMpidrDisagreesWithTheDeviceTreeIsRefused() {
        Recorder r = new Recorder();
        KvmException e = assertThrows(KvmException.class,
                () -> Arm64Vcpus.configure(r.vcpu(1, 0x80000100L), r.preferredTarget(), 0x80000000L, 0x8fe00000L));
        assertEquals("vCPU 1 has MPIDR affinity 0x100; jvmm's device tree says 0x1", e.getMessage());
    }

    @Test
    void gicV3GetsItsRegionsAndInterruptCountThenInitAfterTheVcpus() {
        Recorder r = new Recorder();
        Arm64Gic gic = Arm64Gic.create(r, 4, PLACE, false);
        assertEquals(3, gic.version());
        gic.initialize();
        assertEquals(List.of("create 7",
                "attr 0/2 = 0x3fff0000 (8 bytes)",
                "attr 0/3 = 0x3ffb0000 (8 bytes)",
                "attr 3/0 = 0x80 (4 bytes)",
                "attr 4/0 = 0x0 (0 bytes)"), r.calls);
    }

    @Test
    void withoutGicV3KvmFallsBackToGicV2() {
        Recorder r = new Recorder();
        r.missingTypes.add(Arm64Kvm.KVM_DEV_TYPE_ARM_VGIC_V3);
        Arm64Gic gic = Arm64Gic.create(r, 8, PLACE, false);
        assertEquals(2, gic.version());
        assertEquals(List.of("create 7", "create 5",
                "attr 0/0 = 0x3ffff000 (8 bytes)",
                "attr 0/1 = 0x3fffd000 (8 bytes)",
                "attr 3/0 = 0x80 (4 bytes)"), r.calls);
        Recorder asked = new Recorder();
        assertEquals(2, Arm64Gic.create(asked, 1, PLACE, true).version());
        assertEquals("create 5", asked.calls.get(0), "v2Only does not try v3");
    }

    @Test
    void gicFailuresAreSaidInOneLine() {
        Recorder nine = new Recorder();
        nine.missingTypes.add(Arm64Kvm.KVM_DEV_TYPE_ARM_VGIC_V3);
        KvmException e = assertThrows(KvmException.class, () -> Arm64Gic.create(nine, 9, PLACE, false));
        assertTrue(e.getMessage().contains("GICv2 serves at most 8 vCPUs, not 9"), e.getMessage());
        Recorder none = new Recorder();
        none.missingTypes.addAll(List.of(Arm64Kvm.KVM_DEV_TYPE_ARM_VGIC_V3, Arm64Kvm.KVM_DEV_TYPE_ARM_VGIC_V2));
        e = assertThrows(KvmException.class, () -> Arm64Gic.create(none, 1, PLACE, false));
        assertEquals("this host's KVM can emulate neither a GICv3 nor a GICv2", e.getMessage());
        Recorder busy = new Recorder() {
            @Override
            public Arm64KvmOps.Device createDevice(int type) {
                throw new SyscallException("KVM_CREATE_DEVICE", Errno.EBUSY);
            }
        };
        assertThrows(SyscallException.class, () -> Arm64Gic.create(busy, 1, PLACE, false), "other errors are not masked");
        assertThrows(IllegalArgumentException.class, () -> new Arm64Gic.Placement(0, 0, 0, 0, 100));
        assertThrows(IllegalArgumentException.class, () -> new Arm64Gic.Placement(0, 0, 0, 0, 2048));
    }
}
