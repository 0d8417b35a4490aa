package dev.jvmm.vmm.arm64;

import java.util.List;

/**
 * The vCPU state arm64's boot protocol (booting.rst, "Call the kernel image") asks for, as a
 * list of ONE_REG writes, so it can be checked without KVM:
 * <ul>
 * <li>every vCPU: PSTATE = EL1h with D, A, I and F masked (KVM resets to the same; written anyway
 *     so the state does not rest on a default);</li>
 * <li>the boot vCPU: PC at the Image's first byte, x0 = the device tree's address, x1-x3 = 0.</li>
 * </ul>
 * Secondaries start powered off (KVM_ARM_VCPU_POWER_OFF) and are started by the guest through
 * PSCI CPU_ON, which KVM serves in the kernel: it sets their PC and x0 itself.
 */
public final class Arm64Registers {
    private Arm64Registers() {}

    /** One register write: KVM_SET_ONE_REG with {@code id} and {@code value}. */
    public record Write(String name, long id, long value) {}

    /** EL1 with SP_EL1 (EL1h), debug, SError, IRQ and FIQ masked: 0x3c5. */
    public static final long BOOT_PSTATE = Arm64Kvm.PSR_MODE_EL1h | Arm64Kvm.PSR_D_BIT | Arm64Kvm.PSR_A_BIT
            | Arm64Kvm.PSR_I_BIT | Arm64Kvm.PSR_F_BIT;

    /** The boot vCPU's writes: PSTATE, PC, x0 (device tree), x1-x3 (zero, reserved). */
    public static List<Write> bootVcpu(long entry, long dtbAddress) {
        if (entry % 4 != 0 || dtbAddress % 8 != 0) {
            throw new IllegalArgumentException(String.format("entry 0x%x must be 4-byte aligned and the device tree "
                    + "0x%x 8-byte aligned", entry, dtbAddress));
        }
        return List.of(new Write("pstate", Arm64Kvm.REG_PSTATE, BOOT_PSTATE), new Write("pc", Arm64Kvm.REG_PC, entry),
                new Write("x0", Arm64Kvm.x(0), dtbAddress), new Write("x1", Arm64Kvm.x(1), 0),
                new Write("x2", Arm64Kvm.x(2), 0), new Write("x3", Arm64Kvm.x(3), 0));
    }

    /** A secondary's writes: PSTATE only; PSCI CPU_ON gives it its PC and x0. */
    public static List<Write> secondaryVcpu() {
        return List.of(new Write("pstate", Arm64Kvm.REG_PSTATE, BOOT_PSTATE));
    }

    /**
     * features[0] of KVM_ARM_VCPU_INIT: PSCI 0.2 for all (SYSTEM_OFF, SYSTEM_RESET and CPU_ON
     * with PSCI 0.2 function ids), and powered off for all but the boot vCPU.
     */
    public static int initFeatures(boolean bootVcpu) {
        int f = 1 << Arm64Kvm.KVM_ARM_VCPU_PSCI_0_2;
        return bootVcpu ? f : f | (1 << Arm64Kvm.KVM_ARM_VCPU_POWER_OFF);
    }

    /**
     * The MPIDR_EL1 KVM gives vCPU {@code index} (arch/arm64/kvm/sys_regs.c, reset_mpidr):
     * Aff0 = index bits 0-3, Aff1 = bits 4-11, Aff2 = bits 12-19. The device tree's cpu nodes
     * and PSCI CPU_ON name CPUs by this value.
     */
    public static long mpidr(int index) {
        if (index < 0 || index >= 1 << 20) {
            throw new IllegalArgumentException("vCPU index " + index + " out of range");
        }
        return (index & 0xfL) | (((index >> 4) & 0xffL) << 8) | (((index >> 12) & 0xffL) << 16);
    }
}
