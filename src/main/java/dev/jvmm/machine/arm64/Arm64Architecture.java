package dev.jvmm.machine.arm64;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.boot.arm64.Arm64Allocator;
import dev.jvmm.boot.arm64.Arm64Image;
import dev.jvmm.boot.arm64.Arm64Layout;
import dev.jvmm.machine.arch.Arch;
import dev.jvmm.machine.arch.Architecture;
import dev.jvmm.machine.arch.Board;
import dev.jvmm.machine.arch.Discovery;
import dev.jvmm.vmm.kvm.KvmSystem;
import dev.jvmm.vmm.kvm.KvmVm;
import dev.jvmm.vmm.memory.MemoryRegion;

import java.util.List;

/**
 * aarch64 guests: the arm64 Image (plain, gzip or EFI zboot) with a device tree, RAM from 2 GiB,
 * KVM's in-kernel GICv3 (or v2), an ns16550a UART and a PL031 RTC on MMIO, PSCI 0.2 for
 * secondary CPUs, power-off and reset (KVM serves PSCI; SYSTEM_OFF and SYSTEM_RESET reach jvmm
 * as KVM system events).
 */
public final class Arm64Architecture implements Architecture {
    /**
     * The console on the device tree's UART (x86's i8042 and reboot words have no meaning here);
     * earlycon prints through the same UART, found by the tree's stdout-path, before the driver runs.
     */
    public static final String DEFAULT_CMDLINE = "console=ttyS0 earlycon panic=1";

    @Override
    public Arch arch() {
        return Arch.aarch64;
    }

    @Override
    public String defaultCmdline() {
        return DEFAULT_CMDLINE;
    }

    @Override
    public int maxVirtioDevices() {
        return Arm64Allocator.deviceCapacity();
    }

    @Override
    public String refuses(Discovery how) {
        return how == Discovery.auto ? null : "--virtio-discovery " + how + " is for x86_64 guests (ACPI or the command"
                + " line); an aarch64 guest finds its virtio devices in its device tree";
    }

    /** The Image magic "ARM\x64" at 0x38, a gzip stream (Image.gz) or an EFI zboot image ("MZ", "zimg"). */
    @Override
    public boolean recognises(byte[] k) {
        return Arm64Image.isArm64Kernel(k);
    }

    @Override
    public String checkKernel(byte[] kernel) throws KernelLoadException {
        return Arm64Image.parse(kernel).format();
    }

    @Override
    public List<MemoryRegion> ram(long bytes) {
        return Arm64Layout.ram(bytes);
    }

    @Override
    public Board board(KvmSystem kvm, KvmVm vm, Spec spec) {
        return new Arm64Board(vm, spec);
    }
}
