package dev.jvmm.vmm.arm64;

import dev.jvmm.vmm.kvm.KvmException;

import java.util.List;

/**
 * Brings arm64 vCPUs to the boot protocol's state: KVM_ARM_VCPU_INIT with the VM's preferred
 * target, PSCI 0.2, and all but the boot vCPU powered off; then the {@link Arm64Registers}
 * writes. Checks each vCPU's MPIDR against the value the device tree was given, since a cpu node
 * naming the wrong MPIDR leaves that CPU unbootable (PSCI CPU_ON finds no such CPU).
 */
public final class Arm64Vcpus {
    private Arm64Vcpus() {}

    /**
     * Initialises {@code vcpu} (index 0 boots) and writes its registers; returns the writes made.
     * {@code preferred} is the VM's KVM_ARM_PREFERRED_TARGET answer, fetched once per VM.
     */
    public static List<Arm64Registers.Write> configure(Arm64KvmOps.Vcpu vcpu, int[] preferred, long entry,
                                                        long dtbAddress) {
        boolean boot = vcpu.id() == 0;
        int[] init = preferred.clone();
        init[1] |= Arm64Registers.initFeatures(boot); // features[0] follows the target word
        vcpu.init(init);
        long mpidr = vcpu.getOneReg(Arm64Kvm.REG_MPIDR_EL1) & MPIDR_AFFINITY;
        if (mpidr != Arm64Registers.mpidr(vcpu.id())) {
            throw new KvmException(String.format("vCPU %d has MPIDR affinity 0x%x; jvmm's device tree says 0x%x", vcpu.id(),
                    mpidr, Arm64Registers.mpidr(vcpu.id())));
        }
        List<Arm64Registers.Write> writes = boot ? Arm64Registers.bootVcpu(entry, dtbAddress)
                : Arm64Registers.secondaryVcpu();
        for (Arm64Registers.Write w : writes) {
            vcpu.setOneReg(w.id(), w.value());
        }
        return writes;
    }

    /** MPIDR_EL1's affinity fields Aff0-Aff3 (the kernel's MPIDR_HWID_BITMASK). */
    static final long MPIDR_AFFINITY = 0xff00ffffffL;
}
