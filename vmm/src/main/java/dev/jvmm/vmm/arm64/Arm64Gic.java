package dev.jvmm.vmm.arm64;

import dev.jvmm.vmm.kvm.KvmException;
import dev.jvmm.vmm.sys.Errno;
import dev.jvmm.vmm.sys.SyscallException;

/**
 * The in-kernel interrupt controller: a GICv3 (distributor, and redistributors for every vCPU),
 * or a GICv2 (distributor and CPU interface) where the host cannot emulate a v3 (a host whose
 * own GIC is a v2). Made after the vCPUs are created, and {@link #initialize() initialised}
 * after they are configured and before any runs, as KVM requires.
 */
public final class Arm64Gic {
    /** Where each version's regions go and how many interrupts the GIC has; from the caller's layout. */
    public record Placement(long v3Dist, long v3Redist, long v2Dist, long v2Cpu, int nrIrqs) {
        public Placement {
            if (nrIrqs < 64 || nrIrqs > 1024 || nrIrqs % 32 != 0) {
                throw new IllegalArgumentException("GIC interrupt count " + nrIrqs + " must be a multiple of 32 in 64..1024");
            }
        }
    }

    private final Arm64KvmOps.Device device;
    private final int version;

    private Arm64Gic(Arm64KvmOps.Device device, int version) {
        this.device = device;
        this.version = version;
    }

    /** 3 or 2: the version made, which the device tree must describe. */
    public int version() {
        return version;
    }

    /**
     * A GICv3 if KVM can make one, else a GICv2 (at most 8 vCPUs); addresses and the interrupt
     * count set, not yet initialised. {@code v2Only} skips the v3 attempt.
     */
    public static Arm64Gic create(Arm64KvmOps.Vm vm, int vcpus, Placement p, boolean v2Only) {
        if (!v2Only) {
            Arm64KvmOps.Device d = tryCreate(vm, Arm64Kvm.KVM_DEV_TYPE_ARM_VGIC_V3);
            if (d != null) {
                d.setAttr(Arm64Kvm.KVM_DEV_ARM_VGIC_GRP_ADDR, Arm64Kvm.KVM_VGIC_V3_ADDR_TYPE_DIST, p.v3Dist(), 8,
                        "GICv3 distributor address");
                d.setAttr(Arm64Kvm.KVM_DEV_ARM_VGIC_GRP_ADDR, Arm64Kvm.KVM_VGIC_V3_ADDR_TYPE_REDIST, p.v3Redist(), 8,
                        "GICv3 redistributor address");
                d.setAttr(Arm64Kvm.KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, p.nrIrqs(), 4, "GIC interrupt count");
                return new Arm64Gic(d, 3);
            }
        }
        if (vcpus > 8) {
            throw new KvmException("this host's KVM offers no GICv3, and a GICv2 serves at most 8 vCPUs, not " + vcpus);
        }
        Arm64KvmOps.Device d = tryCreate(vm, Arm64Kvm.KVM_DEV_TYPE_ARM_VGIC_V2);
        if (d == null) {
            throw new KvmException("this host's KVM can emulate neither a GICv3 nor a GICv2");
        }
        d.setAttr(Arm64Kvm.KVM_DEV_ARM_VGIC_GRP_ADDR, Arm64Kvm.KVM_VGIC_V2_ADDR_TYPE_DIST, p.v2Dist(), 8,
                "GICv2 distributor address");
        d.setAttr(Arm64Kvm.KVM_DEV_ARM_VGIC_GRP_ADDR, Arm64Kvm.KVM_VGIC_V2_ADDR_TYPE_CPU, p.v2Cpu(), 8,
                "GICv2 CPU interface address");
        d.setAttr(Arm64Kvm.KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, p.nrIrqs(), 4, "GIC interrupt count");
        return new Arm64Gic(d, 2);
    }

    /** KVM_DEV_ARM_VGIC_CTRL_INIT: after every vCPU is created and configured, before any runs. */
    public void initialize() {
        device.setAttr(Arm64Kvm.KVM_DEV_ARM_VGIC_GRP_CTRL, Arm64Kvm.KVM_DEV_ARM_VGIC_CTRL_INIT, 0, 0,
                "GIC initialisation");
    }

    /** The device, or null where KVM says it has no such type (ENODEV). */
    private static Arm64KvmOps.Device tryCreate(Arm64KvmOps.Vm vm, int type) {
        try {
            return vm.createDevice(type);
        } catch (SyscallException e) {
            if (e.errno() == Errno.ENODEV) {
                return null;
            }
            throw e;
        }
    }
}
