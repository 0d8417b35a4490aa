package dev.jvmm.machine.arm64;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.boot.PlatformWord;
import dev.jvmm.boot.arm64.Arm64Allocator;
import dev.jvmm.boot.arm64.Arm64Image;
import dev.jvmm.boot.arm64.Arm64Layout;
import dev.jvmm.boot.arm64.Arm64LoadPlan;
import dev.jvmm.boot.arm64.Arm64Machine;
import dev.jvmm.boot.arm64.Arm64MachineTree;
import dev.jvmm.devices.platform.PlatformPage;
import dev.jvmm.devices.rtc.Pl031;
import dev.jvmm.devices.serial.Serial16550;
import dev.jvmm.machine.arch.Architecture;
import dev.jvmm.machine.arch.Board;
import dev.jvmm.machine.arch.Payload;
import dev.jvmm.machine.arch.Placed;
import dev.jvmm.machine.arch.Platform;
import dev.jvmm.vmm.arm64.Arm64Gic;
import dev.jvmm.vmm.arm64.Arm64Kvm;
import dev.jvmm.vmm.arm64.Arm64KvmOps;
import dev.jvmm.vmm.arm64.Arm64Vcpus;
import dev.jvmm.vmm.irq.InterruptLine;
import dev.jvmm.vmm.kvm.KvmVcpu;
import dev.jvmm.vmm.kvm.KvmVm;
import dev.jvmm.vmm.memory.GuestMemory;

import java.util.List;

/**
 * One aarch64 VM's architecture part, in the order KVM wants it: virtio windows and SPIs from
 * {@link Arm64Allocator}; the GIC once every vCPU exists; the Image, initrd and the device tree
 * of the same device list; each vCPU initialised (PSCI 0.2, secondaries off) with PC and x0;
 * the GIC initialised; only then irqfds (KVM refuses them before). The UART's interrupt is a
 * level through KVM_IRQ_LINE, the virtio devices' edges through irqfds.
 */
final class Arm64Board implements Board {
    private final KvmVm vm;
    private final Architecture.Spec spec;
    private final Arm64Allocator allocator = new Arm64Allocator();
    private Arm64Gic gic;
    private Arm64LoadPlan plan;
    private int[] preferredTarget;

    Arm64Board(KvmVm vm, Architecture.Spec spec) {
        this.vm = vm;
        this.spec = spec;
    }

    @Override
    public Placed placeVirtio(String owner) {
        return placed(allocator.device(owner, Arm64Layout.DEVICE_WINDOW));
    }

    static Placed placed(Arm64Allocator.Allocation a) {
        return new Placed(a.owner(), a.base(), a.size(), a.spi());
    }

    @Override
    public void vcpusCreated(List<KvmVcpu> vcpus) {
        gic = Arm64Gic.create(Arm64KvmOps.of(vm), vcpus.size(), Arm64Layout.gicPlacement(vcpus.size()), false);
    }

    @Override
    public String load(GuestMemory memory, Payload payload, List<Placed> virtio) throws KernelLoadException {
        if (gic == null) {
            throw new IllegalStateException("the GIC is made before the kernel is loaded: its version is in the device tree");
        }
        Loaded loaded = load(memory, payload, virtio, spec, gic.version());
        plan = loaded.plan();
        return loaded.format();
    }

    /** What {@link #load(GuestMemory, Payload, List, Architecture.Spec, int)} placed, and the kernel's format. */
    record Loaded(Arm64LoadPlan plan, Arm64Machine machine, String format) {}

    /**
     * Plans and writes the Image, the initrd and the device tree describing a machine of
     * {@code spec} with a GIC of {@code gicVersion} and {@code virtio}; no KVM involved.
     */
    static Loaded load(GuestMemory memory, Payload payload, List<Placed> virtio, Architecture.Spec spec, int gicVersion)
            throws KernelLoadException {
        Arm64Image image = Arm64Image.parse(payload.kernel());
        byte[] initrd = payload.initrd();
        Arm64LoadPlan plan = Arm64LoadPlan.plan(Arm64Layout.RAM_BASE, spec.ramBytes(), image,
                initrd == null ? 0 : initrd.length);
        Arm64Machine machine;
        try {
            machine = Arm64Machine.standard(spec.ramBytes(), spec.vcpus(), gicVersion, virtio.stream()
                    .map(p -> new Arm64Machine.Device(p.base(), p.size(), p.irq())).toList(),
                    PlatformWord.addTo(payload.cmdline(), Arm64Layout.PLATFORM_PAGE), // the guest's scripts read it
                    plan.initrdStart(), plan.initrdEnd());
        } catch (IllegalArgumentException e) {
            throw new KernelLoadException(e.getMessage()); // a command line too long, say
        }
        plan.load(memory, image, initrd, Arm64MachineTree.dtb(machine));
        return new Loaded(plan, machine, image.format());
    }

    @Override
    public void setUpVcpu(KvmVcpu vcpu) {
        if (preferredTarget == null) {
            preferredTarget = vm.armPreferredTarget();
        }
        Arm64Vcpus.configure(Arm64KvmOps.of(vcpu), preferredTarget, plan.entry(), plan.dtbAddress());
    }

    @Override
    public void interruptsReady() {
        gic.initialize();
    }

    /** Edges through irqfds: KVM's default arm64 routing takes GSI n to SPI n. */
    @Override
    public InterruptLine virtioInterrupt(Placed device) {
        return vm.irqfdLine(device.irq());
    }

    @Override
    public Serial16550 attachPlatform(Platform p) {
        Serial16550 serial = new Serial16550(vm.interruptLine(Arm64Kvm.irqLineSpi(Arm64Layout.UART_SPI)), p.console(),
                Serial16550.Trigger.LEVEL);
        p.mmio().insert(serial, Arm64Layout.UART_BASE, Arm64Layout.DEVICE_WINDOW);
        p.mmio().insert(new Pl031(), Arm64Layout.RTC_BASE, Pl031.SIZE);
        p.mmio().insert(new PlatformPage(p.page()), Arm64Layout.PLATFORM_PAGE, PlatformPage.SIZE);
        return serial;
    }

    @Override
    public String systemEvent(int type) {
        return switch (type) {
            case Arm64Kvm.KVM_SYSTEM_EVENT_SHUTDOWN -> "PSCI SYSTEM_OFF (poweroff)";
            case Arm64Kvm.KVM_SYSTEM_EVENT_RESET -> "PSCI SYSTEM_RESET (reboot)";
            default -> null;
        };
    }
}
