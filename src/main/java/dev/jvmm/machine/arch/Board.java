package dev.jvmm.machine.arch;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.devices.serial.Serial16550;
import dev.jvmm.vmm.irq.InterruptLine;
import dev.jvmm.vmm.kvm.KvmVcpu;
import dev.jvmm.vmm.memory.GuestMemory;

import java.util.List;

/**
 * An architecture's part of one VM. The builder calls it in this order, which both
 * architectures' KVM rules fit:
 * <ol>
 * <li>{@link #placeVirtio} for each virtio device (the allocator: window and interrupt);</li>
 * <li>{@link #vcpusCreated} once every vCPU exists (arm64 makes its GIC here);</li>
 * <li>{@link #load}: kernel, initrd, command line, and the firmware description of the same
 *     device list (x86: ACPI tables and {@code virtio_mmio.device=} words; arm64: a device tree);</li>
 * <li>{@link #setUpVcpu} for each vCPU (the boot protocol's register state);</li>
 * <li>{@link #interruptsReady} (arm64 initialises the GIC: KVM takes irqfds only after);</li>
 * <li>{@link #virtioInterrupt} for each placed device, and {@link #attachPlatform}.</li>
 * </ol>
 */
public interface Board extends VirtioPlacer {
    /** A window and an interrupt for the next virtio-mmio device; one line when none is left. */
    @Override
    Placed placeVirtio(String owner);

    /** After every vCPU of the VM is created, before any is set up. */
    void vcpusCreated(List<KvmVcpu> vcpus);

    /**
     * Writes the kernel, initrd and command line, and describes {@code virtio} to the guest;
     * returns the kernel's format for the timeline. A refusal leaves no vCPU runnable.
     */
    String load(GuestMemory memory, Payload payload, List<Placed> virtio) throws KernelLoadException;

    /** Puts {@code vcpu} into the state the boot protocol asks for; after {@link #load}. */
    void setUpVcpu(KvmVcpu vcpu);

    /** Every vCPU is set up; interrupts may now be wired. */
    void interruptsReady();

    /** The edge-triggered interrupt of a device this board placed (an irqfd). */
    InterruptLine virtioInterrupt(Placed device);

    /**
     * Attaches the fixed devices (console UART, power and reset, platform page, clock) where
     * this architecture has them; returns the console UART, which host input feeds.
     */
    Serial16550 attachPlatform(Platform platform);

    /**
     * How a KVM system event ({@code KVM_SYSTEM_EVENT_SHUTDOWN}, {@code _RESET}) reads in the
     * stop reason; null for the generic wording.
     */
    default String systemEvent(int type) {
        return null;
    }
}
