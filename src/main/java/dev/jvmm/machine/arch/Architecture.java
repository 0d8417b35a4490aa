package dev.jvmm.machine.arch;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.vmm.kvm.KvmSystem;
import dev.jvmm.vmm.kvm.KvmVm;
import dev.jvmm.vmm.memory.MemoryRegion;

import java.util.List;

/**
 * One guest architecture, as the machine builder sees it: the kernel formats it boots, its
 * memory map, and, per VM, a {@link Board} that places devices, loads the kernel with its
 * firmware description, sets up vCPUs and attaches the fixed devices. Everything that names an
 * address or an interrupt number of the architecture lives behind this interface, in the
 * architecture's own packages (x86: dev.jvmm.machine.x86, boot/x86, boot/acpi, vmm/x86; arm64:
 * dev.jvmm.machine.arm64, boot/arm64, vmm/arm64).
 */
public interface Architecture {
    Arch arch();

    /** The kernel command line of a kernel boot without --cmdline. */
    String defaultCmdline();

    /** How many virtio devices its allocator can place (windows and interrupts). */
    int maxVirtioDevices();

    /** Why {@code how} cannot describe this architecture's devices, or null when it can. */
    String refuses(Discovery how);

    /** Whether {@code kernel} (its first bytes suffice) is in a format of this architecture only. */
    boolean recognises(byte[] kernel);

    /** Checks that {@code kernel} is one this architecture boots; returns its format; one line if not. */
    String checkKernel(byte[] kernel) throws KernelLoadException;

    /** Guest RAM of {@code bytes}, as the regions of its memory map. */
    List<MemoryRegion> ram(long bytes);

    /**
     * The architecture's part of one VM, just created in {@code kvm}: makes what must exist
     * before memory and vCPUs (x86: the PIC/IOAPIC and the PIT).
     */
    Board board(KvmSystem kvm, KvmVm vm, Spec spec);

    /** What a board needs to know of the machine beyond its KVM objects. */
    record Spec(int vcpus, long ramBytes, Discovery discovery) {}
}
