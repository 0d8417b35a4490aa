package dev.jvmm.machine;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.boot.acpi.AcpiTables;
import dev.jvmm.boot.x86.X86Layout;
import dev.jvmm.boot.x86.X86Loader;
import dev.jvmm.devices.i8042.I8042;
import dev.jvmm.devices.platform.PlatformPage;
import dev.jvmm.devices.power.AcpiPowerDevice;
import dev.jvmm.devices.serial.Serial16550;
import dev.jvmm.vmm.bus.Bus;
import dev.jvmm.vmm.kvm.CpuidEntries;
import dev.jvmm.vmm.kvm.KvmSystem;
import dev.jvmm.vmm.kvm.KvmVcpu;
import dev.jvmm.vmm.kvm.KvmVm;
import dev.jvmm.vmm.memory.GuestMemory;
import dev.jvmm.vmm.memory.MmapGuestMemory;
import dev.jvmm.vmm.sys.KvmIoctls;
import dev.jvmm.vmm.vcpu.RunControl;
import dev.jvmm.vmm.vcpu.StopReason;
import dev.jvmm.vmm.vcpu.VcpuThread;
import dev.jvmm.vmm.x86.X86Vcpu;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Builds an x86_64 VM from a {@link MachineConfig} and runs it to its end: KVM objects, guest
 * memory, ACPI tables, the kernel, the devices on their buses, one thread per vCPU. Every exit
 * path tears down in reverse order: vCPUs joined, input stopped, fds closed, memory unmapped.
 */
public final class Machine {
    public static final int SERIAL_PORT = 0x3f8;
    public static final int SERIAL_IRQ = 4;
    public static final int I8042_PORT = 0x60;
    /** Interrupts for virtio devices, in order: ISA lines no platform device uses, then the IOAPIC's upper pins. */
    public static final int[] VIRTIO_GSIS = {5, 6, 7, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23};

    private final MachineConfig config;
    private final Timeline timeline;
    private final PrintStream err;

    public Machine(MachineConfig config, Timeline timeline, PrintStream err) {
        this.config = config;
        this.timeline = timeline;
        this.err = err;
    }

    /** A kernel or initrd that is missing or unreadable fails here, before any lab or KVM work. */
    public static void checkInput(java.nio.file.Path p, String what) throws KernelLoadException {
        if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
            throw new KernelLoadException(what + " " + p + " does not exist or cannot be read");
        }
    }

    /** Reads kernel and initrd before any KVM work, so bad paths fail fast and cleanly. */
    static byte[] readInput(java.nio.file.Path p, String what) throws KernelLoadException {
        checkInput(p, what);
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new KernelLoadException("cannot read " + what + " " + p + ": " + e.getMessage());
        }
    }

    /**
     * Runs {@code config} on this process's console (raw while it runs) and returns jvmm's exit
     * status; prints the timeline if asked. What `jvmm boot` does once the kernel is chosen.
     */
    public static int runOnConsole(MachineConfig config, Timeline timeline)
            throws KernelLoadException, DeviceSetupException, InterruptedException {
        int rc;
        try (Terminal ignored = Terminal.raw()) {
            timeline.mark("console ready");
            StopReason reason = new Machine(config, timeline, System.err).run(System.in,
                    new java.io.FileOutputStream(java.io.FileDescriptor.out));
            rc = ExitCodes.of(reason);
            if (reason.kind() == StopReason.Kind.ERROR || reason.kind() == StopReason.Kind.TRIPLE_FAULT) {
                System.err.println("\r\njvmm: " + reason.detail() + "\r");
            }
        }
        if (config.timeline()) {
            timeline.print(System.err);
        }
        return rc;
    }

    /** Runs the VM; returns the stop reason. */
    public StopReason run(InputStream stdin, OutputStream stdout)
            throws KernelLoadException, DeviceSetupException, InterruptedException {
        byte[] kernel = readInput(config.kernel(), "kernel");
        byte[] initrd = config.initrd() == null ? null : readInput(config.initrd(), "initrd");
        RunControl control = new RunControl();
        List<VcpuThread> vcpuThreads = new ArrayList<>();
        ConsoleOutput console = new ConsoleOutput(stdout, timeline);
        ScheduledExecutorService flusher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "console-flush");
            t.setDaemon(true);
            return t;
        });
        ConsoleInput[] input = new ConsoleInput[1];
        VirtioSetup[] virtio = new VirtioSetup[1];
        QueueNotifier[] notifier = new QueueNotifier[1];
        StopReason[] stopped = new StopReason[1];
        // Resources close after the inner finally has joined every thread that touches them.
        try (KvmSystem kvm = KvmSystem.open();
             KvmVm vm = kvm.createVm();
             MmapGuestMemory memory = GuestMemory.mmap(X86Layout.ramRegions((long) config.memoryMib() << 20))) {
            try {
                int maxVcpus = Math.max(kvm.checkExtension(KvmIoctls.KVM_CAP_MAX_VCPUS), kvm.checkExtension(KvmIoctls.KVM_CAP_NR_VCPUS));
                if (config.cpus() > maxVcpus) {
                    throw new KernelLoadException("--cpus " + config.cpus() + " exceeds this KVM's limit of " + maxVcpus);
                }
                vm.setTssAddress(X86Layout.KVM_TSS_ADDRESS);
                vm.setIdentityMapAddress(X86Layout.KVM_IDENTITY_MAP_ADDRESS);
                vm.createIrqchip();
                vm.createPit();
                vm.mapMemory(memory);
                timeline.mark("KVM VM created");

                // virtio interrupts are edges (the DSDT says so): irqfd, one eventfd write each.
                virtio[0] = VirtioSetup.create(config.devices(), memory, vm::irqfdLine, err);
                DeviceSpecs.Discovery discovery = config.devices().discovery();
                long rsdp = AcpiTables.write(memory, new AcpiTables.Config(config.cpus(), X86Layout.IOAPIC_ADDRESS,
                        X86Layout.LAPIC_ADDRESS, discovery == DeviceSpecs.Discovery.cmdline ? List.of() : virtio[0].acpiDevices()),
                        X86Layout.ACPI_START, X86Layout.ACPI_END);
                String devicesCmdline = discovery == DeviceSpecs.Discovery.acpi ? "" : virtio[0].cmdline();
                String cmdline = devicesCmdline.isEmpty() ? config.cmdline() : config.cmdline() + " " + devicesCmdline;
                X86Loader.Loaded loaded = X86Loader.load(memory, kernel, initrd, cmdline, rsdp);
                timeline.mark("kernel loaded (" + loaded.format() + ")");

                Bus pio = new Bus("port I/O");
                Bus mmio = new Bus("MMIO");
                Serial16550 serial = new Serial16550(vm.interruptLine(SERIAL_IRQ), console);
                pio.insert(serial, SERIAL_PORT, 8);
                pio.insert(new I8042(() -> control.stop(StopReason.of(StopReason.Kind.RESET, "i8042 reset"))), I8042_PORT, 5);
                pio.insert(new AcpiPowerDevice(AcpiTables.S5_SLEEP_TYPE, AcpiTables.RESET_VALUE,
                        () -> control.stop(StopReason.of(StopReason.Kind.POWER_OFF, "ACPI S5 (poweroff)")),
                        () -> control.stop(StopReason.of(StopReason.Kind.RESET, "ACPI reset"))), AcpiTables.POWER_PORT, 1);
                mmio.insert(new PlatformPage(new PlatformPage.Events() {
                    @Override
                    public void guestReady() {
                        timeline.markOnce("guest ready (boot timer)");
                    }

                    @Override
                    public void exitRequested(int status) {
                        control.stop(StopReason.exitRegister(status));
                    }
                }), X86Layout.PLATFORM_PAGE, PlatformPage.SIZE);
                virtio[0].insertInto(mmio);
                if (kvm.checkExtension(KvmIoctls.KVM_CAP_IOEVENTFD) > 0) {
                    notifier[0] = new QueueNotifier(vm, virtio[0]);
                }

                CpuidEntries cpuid = kvm.supportedCpuid();
                for (int i = 0; i < config.cpus(); i++) {
                    KvmVcpu vcpu = vm.createVcpu(i);
                    X86Vcpu.configure(vcpu, loaded.entry(), cpuid, config.cpus());
                    vcpuThreads.add(new VcpuThread(vcpu, pio, mmio, control));
                }
                input[0] = new ConsoleInput(stdin, (b, n) -> serial.enqueueInput(b, n),
                        () -> control.stop(StopReason.of(StopReason.Kind.USER_QUIT, "Ctrl-A x")), config.escapeKey());
                flusher.scheduleWithFixedDelay(() -> {
                    try {
                        console.flush();
                    } catch (IOException ignored) {
                        // stdout gone; the VM keeps running until it stops
                    }
                }, 20, 20, TimeUnit.MILLISECONDS);
                if (notifier[0] != null) {
                    notifier[0].start();
                }
                vcpuThreads.forEach(VcpuThread::start);
                input[0].start();
                timeline.mark("vCPUs started (" + config.cpus() + ")");

                StopReason reason = control.await(config.timeoutSeconds() * 1000L);
                if (reason == null) {
                    control.stop(StopReason.of(StopReason.Kind.TIMEOUT, "--timeout " + config.timeoutSeconds() + " s expired"));
                    reason = control.reason();
                }
                timeline.mark("VM stopped: " + reason.detail());
                stopped[0] = reason;
                return reason;
            } finally {
                stopEverything(control, vcpuThreads, input[0], flusher, console);
                if (notifier[0] != null) {
                    notifier[0].close();
                }
                if (virtio[0] != null) {
                    virtio[0].close();
                    writeMetrics(virtio[0], stopped[0]);
                }
            }
        }
    }

    /** --metrics FILE: every device's counters as JSON, written once the VM has stopped. */
    private void writeMetrics(VirtioSetup devices, StopReason reason) {
        if (config.metricsFile() == null) {
            return;
        }
        java.util.Map<String, Object> doc = new java.util.LinkedHashMap<>();
        doc.put("stop", reason == null ? "error" : reason.kind().name().toLowerCase(java.util.Locale.ROOT));
        doc.put("exit_status", reason == null ? ExitCodes.INTERNAL_ERROR : ExitCodes.of(reason));
        doc.put("devices", devices.metrics());
        try {
            new com.fasterxml.jackson.databind.ObjectMapper().writeValue(config.metricsFile().toFile(), doc);
        } catch (IOException e) {
            err.println("\r\njvmm: cannot write --metrics " + config.metricsFile() + ": " + e.getMessage() + "\r");
        }
    }

    private void stopEverything(RunControl control, List<VcpuThread> vcpuThreads, ConsoleInput input,
                                ScheduledExecutorService flusher, ConsoleOutput console) throws InterruptedException {
        control.stop(StopReason.of(StopReason.Kind.ERROR, "teardown"));
        for (VcpuThread t : vcpuThreads) {
            if (!t.stopAndJoin(5000)) {
                err.println("jvmm: a vCPU thread did not stop within 5 s: " + t.whereStuck());
            }
        }
        if (input != null) {
            input.stopAndJoin();
        }
        flusher.shutdownNow();
        flusher.awaitTermination(1, TimeUnit.SECONDS);
        try {
            console.flush();
        } catch (IOException ignored) {
            // nothing more to say
        }
    }
}
