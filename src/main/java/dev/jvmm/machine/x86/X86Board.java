package dev.jvmm.machine.x86;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.boot.PlatformWord;
import dev.jvmm.boot.acpi.AcpiTables;
import dev.jvmm.boot.x86.X86Allocator;
import dev.jvmm.boot.x86.X86Layout;
import dev.jvmm.boot.x86.X86Loader;
import dev.jvmm.devices.i8042.I8042;
import dev.jvmm.devices.pci.PciHostBridge;
import dev.jvmm.devices.platform.PlatformPage;
import dev.jvmm.devices.power.AcpiPowerDevice;
import dev.jvmm.devices.serial.Serial16550;
import dev.jvmm.machine.arch.Architecture;
import dev.jvmm.machine.arch.Board;
import dev.jvmm.machine.arch.Payload;
import dev.jvmm.machine.arch.Placed;
import dev.jvmm.machine.arch.Platform;
import dev.jvmm.vmm.irq.InterruptLine;
import dev.jvmm.vmm.kvm.CpuidEntries;
import dev.jvmm.vmm.kvm.KvmSystem;
import dev.jvmm.vmm.kvm.KvmVcpu;
import dev.jvmm.vmm.kvm.KvmVm;
import dev.jvmm.vmm.memory.GuestMemory;
import dev.jvmm.vmm.vcpu.StopReason;
import dev.jvmm.vmm.x86.X86Vcpu;

import java.util.List;

/**
 * One x86_64 VM's architecture part: KVM's TSS and identity-map pages, PIC/IOAPIC and PIT made
 * before anything else; virtio windows and GSIs from {@link X86Allocator}; the ACPI tables and
 * command-line words from that one device list; the long-mode vCPU state and CPUID; and the
 * fixed devices on their ports (COM1, i8042, the PCI host bridge, the ACPI power register) and
 * the platform page at the bottom of the MMIO hole.
 */
final class X86Board implements Board {
    private final KvmSystem kvm;
    private final KvmVm vm;
    private final Architecture.Spec spec;
    private final X86Allocator allocator = new X86Allocator();
    private X86Loader.Loaded loaded;
    private CpuidEntries cpuid;

    X86Board(KvmSystem kvm, KvmVm vm, Architecture.Spec spec) {
        this.kvm = kvm;
        this.vm = vm;
        this.spec = spec;
        vm.setTssAddress(X86Layout.KVM_TSS_ADDRESS);
        vm.setIdentityMapAddress(X86Layout.KVM_IDENTITY_MAP_ADDRESS);
        vm.createIrqchip();
        vm.createPit();
    }

    @Override
    public Placed placeVirtio(String owner) {
        X86Allocator.Allocation a = allocator.virtio(owner);
        return new Placed(a.owner(), a.base(), a.size(), a.gsi());
    }

    @Override
    public void vcpusCreated(List<KvmVcpu> vcpus) {
        // The irqchip was made with the VM: each vCPU got its local APIC on creation.
    }

    @Override
    public String load(GuestMemory memory, Payload payload, List<Placed> virtio) throws KernelLoadException {
        VirtioDiscovery discovery = VirtioDiscovery.of(spec.discovery(), payload.cmdline(), virtio);
        long rsdp = AcpiTables.write(memory, new AcpiTables.Config(spec.vcpus(), X86Layout.IOAPIC_ADDRESS,
                X86Layout.LAPIC_ADDRESS, discovery.dsdtDevices()), X86Layout.ACPI_START, X86Layout.ACPI_END);
        loaded = X86Loader.load(memory, payload.kernel(), payload.unpackedKernel(), payload.initrd(),
                commandLine(payload.cmdline(), discovery), rsdp);
        return loaded.format();
    }

    /** The guest's command line: the payload's, the platform page's address for its scripts, the virtio words if any. */
    static String commandLine(String cmdline, VirtioDiscovery discovery) {
        return discovery.appendTo(PlatformWord.addTo(cmdline, X86Layout.PLATFORM_PAGE));
    }

    @Override
    public void setUpVcpu(KvmVcpu vcpu) {
        if (cpuid == null) {
            cpuid = kvm.supportedCpuid();
        }
        X86Vcpu.configure(vcpu, loaded.entry(), cpuid, spec.vcpus());
    }

    @Override
    public void interruptsReady() {
        // KVM's x86 irqchip takes irqfds from its creation on.
    }

    /** virtio interrupts are edges (the DSDT says so): irqfd, one eventfd write each. */
    @Override
    public InterruptLine virtioInterrupt(Placed device) {
        return vm.irqfdLine(device.irq());
    }

    @Override
    public Serial16550 attachPlatform(Platform p) {
        Serial16550 serial = new Serial16550(vm.interruptLine(X86Layout.SERIAL_IRQ), p.console());
        p.pio().insert(serial, X86Layout.SERIAL_PORT, X86Layout.SERIAL_PORTS);
        p.pio().insert(new I8042(p.stopping(StopReason.Kind.RESET, "i8042 reset")),
                X86Layout.I8042_PORT, X86Layout.I8042_PORTS);
        p.pio().insert(new PciHostBridge(), PciHostBridge.PORT, PciHostBridge.SIZE);
        p.pio().insert(new AcpiPowerDevice(AcpiTables.S5_SLEEP_TYPE, AcpiTables.RESET_VALUE,
                p.stopping(StopReason.Kind.POWER_OFF, "ACPI S5 (poweroff)"),
                p.stopping(StopReason.Kind.RESET, "ACPI reset")), AcpiTables.POWER_PORT, 1);
        p.mmio().insert(new PlatformPage(p.page()), X86Layout.PLATFORM_PAGE, PlatformPage.SIZE);
        return serial;
    }
}
