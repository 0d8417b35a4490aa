package dev.jvmm.machine.x86;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.boot.x86.KernelImage;
import dev.jvmm.boot.x86.X86Allocator;
import dev.jvmm.boot.x86.X86Layout;
import dev.jvmm.machine.arch.Arch;
import dev.jvmm.machine.arch.Architecture;
import dev.jvmm.machine.arch.Board;
import dev.jvmm.machine.arch.Discovery;
import dev.jvmm.vmm.kvm.KvmSystem;
import dev.jvmm.vmm.kvm.KvmVm;
import dev.jvmm.vmm.memory.MemoryRegion;

import java.util.List;

/**
 * x86_64 guests: ELF vmlinux and bzImage through Linux's 64-bit boot protocol, RAM below the
 * MMIO hole and above 4 GiB, KVM's in-kernel PIC/IOAPIC and PIT, ACPI tables (and, when asked,
 * {@code virtio_mmio.device=} words) describing the devices, a 16550A on COM1, and power-off and
 * reset through the ACPI power register, the i8042 and KVM's system events.
 */
public final class X86Architecture implements Architecture {
    /** Firecracker's defaults, with the console on the UART jvmm emulates. */
    public static final String DEFAULT_CMDLINE = "console=ttyS0 reboot=k panic=1 i8042.noaux i8042.nomux i8042.dumbkbd";

    @Override
    public Arch arch() {
        return Arch.x86_64;
    }

    @Override
    public String defaultCmdline() {
        return DEFAULT_CMDLINE;
    }

    @Override
    public int maxVirtioDevices() {
        return X86Allocator.capacity();
    }

    @Override
    public String refuses(Discovery how) {
        return null;
    }

    /** An ELF for x86-64 (e_machine 62) or a bzImage ("HdrS" at 0x202). */
    @Override
    public boolean recognises(byte[] k) {
        return KernelImage.recognises(k);
    }

    @Override
    public String checkKernel(byte[] kernel) throws KernelLoadException {
        return KernelImage.parse(kernel) instanceof KernelImage.Elf ? "ELF vmlinux" : "bzImage";
    }

    @Override
    public List<MemoryRegion> ram(long bytes) {
        return X86Layout.ramRegions(bytes);
    }

    @Override
    public Board board(KvmSystem kvm, KvmVm vm, Spec spec) {
        return new X86Board(kvm, vm, spec);
    }
}
