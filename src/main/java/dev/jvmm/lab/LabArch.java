package dev.jvmm.lab;

import dev.jvmm.boot.arm64.Arm64Image;
import dev.jvmm.machine.MachineConfig;
import dev.jvmm.machine.arch.Arch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What differs between the two nested labs: the QEMU that emulates a CPU with virtualization
 * extensions, L1's console and kernel modules, how L1's heartbeat reaches the watchdog, and how
 * the inner JVM's class-data archive is made. Everything else (init script, markers, disks,
 * the inner jvmm) is shared; the pieces themselves come from {@link Lab} (x86_64) and
 * {@link Arm64LabPieces} (aarch64).
 */
public enum LabArch {
    /**
     * QEMU q35 with SVM/VMX under TCG; Debian's cloud kernel with KVM as modules. A 128 MiB
     * translation cache instead of TCG's 1 GiB: translated blocks of freed guest pages pile up
     * from one nested boot to the next, and with them L1's kernel time in KVM: the vCPU thread's
     * system time during a boot grew run by run (0.3 s, 0.6, 1.4, 2.1 s; time to ready 3.5 s to
     * 7.5 s, the first boot of each L1 always the fastest) until TCG filled its cache and flushed
     * it. With 128 MiB it flushes every boot or two: every run 3.3-3.5 s, 0.16 s of system time.
     */
    X86_64("x86_64", "qemu-system-x86_64", "qemu-system-x86",
            List.of("-M", "q35", "-accel", "tcg,tb-size=128", "-cpu", "max"), "ttyS0",
            List.of("irqbypass", "kvm", "kvm-amd", "kvm-intel", "virtio_ring", "virtio",
                    "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci", "virtio_blk", "tun"),
            "/dev/ttyS1", "does QEMU emulate SVM/VMX here?"),
    /**
     * QEMU virt with EL2 (VHE) under TCG; Debian's arm64 kernel, whose KVM is built in. The
     * implementation-defined pointer-authentication algorithm: QEMU's QARMA emulation makes every
     * signed return of the kernel and the JVM several times slower. virt has one PL011, so the
     * heartbeat goes to a virtio console (hvc0).
     */
    AARCH64("aarch64", "qemu-system-aarch64", "qemu-system-arm",
            List.of("-M", "virt,virtualization=on,gic-version=3", "-accel", "tcg", "-cpu", "max,pauth-impdef=on"),
            "ttyAMA0",
            List.of("virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci", "virtio_blk", "virtio_console", "tun"),
            "/dev/hvc0", "does QEMU emulate EL2 here: -M virt,virtualization=on?");

    private final String label;
    private final String qemuBinary;
    private final String qemuPackage;
    private final List<String> machineArguments;
    private final String console;
    private final List<String> modules;
    private final String heartbeatDevice;
    private final String noKvmHint;

    LabArch(String label, String qemuBinary, String qemuPackage, List<String> machineArguments, String console,
            List<String> modules, String heartbeatDevice, String noKvmHint) {
        this.label = label;
        this.qemuBinary = qemuBinary;
        this.qemuPackage = qemuPackage;
        this.machineArguments = machineArguments;
        this.console = console;
        this.modules = modules;
        this.heartbeatDevice = heartbeatDevice;
        this.noKvmHint = noKvmHint;
    }

    /** The architecture's name as uname and Debian's kernel recipe say it: x86_64, aarch64. */
    public String label() {
        return label;
    }

    public String qemuBinary() {
        return qemuBinary;
    }

    /** The Debian package with {@link #qemuBinary()}. */
    public String qemuPackage() {
        return qemuPackage;
    }

    /** QEMU's binary, machine, accelerator and CPU. */
    public List<String> qemuMachine() {
        List<String> out = new java.util.ArrayList<>();
        out.add(qemuBinary);
        out.addAll(machineArguments);
        return out;
    }

    /** L1's console device, for its kernel command line. */
    public String console() {
        return console;
    }

    /** L1 kernel modules, in load order: KVM where it is a module, virtio-blk on PCI, the heartbeat's port, TUN. */
    public List<String> modules() {
        return modules;
    }

    /** The device L1's init writes its heartbeat to. */
    String heartbeatDevice() {
        return heartbeatDevice;
    }

    /** What the init says when L1 has no /dev/kvm. */
    String noKvmHint() {
        return noKvmHint;
    }

    /** QEMU arguments that give L1 the port behind {@link #heartbeatDevice()}, writing to {@code file}. */
    List<String> heartbeatArguments(Path file) {
        List<String> chardev = List.of("-chardev", "file,id=heartbeat,path=" + file);
        return switch (this) {
            case X86_64 -> concat(chardev, List.of("-serial", "chardev:heartbeat"));
            case AARCH64 -> concat(chardev, List.of("-device", "virtio-serial-pci,id=heartbeat-bus",
                    "-device", "virtconsole,chardev=heartbeat"));
        };
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new java.util.ArrayList<>(a);
        out.addAll(b);
        return List.copyOf(out);
    }

    /** The architecture this JVM runs on (os.arch); anything but arm64 counts as x86_64. */
    public static LabArch host() {
        return switch (System.getProperty("os.arch").toLowerCase(Locale.ROOT)) {
            case "aarch64", "arm64" -> AARCH64;
            default -> X86_64;
        };
    }

    /** By name as {@code --arch} takes it: x86_64 (or amd64), aarch64 (or arm64). */
    public static LabArch named(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "x86_64", "amd64", "x86-64" -> X86_64;
            case "aarch64", "arm64" -> AARCH64;
            default -> throw new IllegalArgumentException("unknown architecture '" + name + "' (x86_64 or aarch64)");
        };
    }

    /** The lab a machine needs: the one of its guest's architecture (which `jvmm boot` takes from the kernel's format). */
    public static LabArch forMachine(MachineConfig c) {
        return c.arch() == Arch.aarch64 ? AARCH64 : X86_64;
    }

    /**
     * The architecture of a kernel file, from its first bytes: an arm64 Image (magic "ARM\x64" at
     * 0x38, plain or gzip'd), an EFI zboot image ("zimg", arm64's compressed form), or an ELF for
     * EM_AARCH64 is aarch64; anything else (bzImage, an x86 ELF) is x86_64, whose loaders give
     * the errors for files that are neither.
     */
    public static LabArch forKernel(Path kernel) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(kernel)) {
            head = in.readNBytes(64 << 10); // enough for a gzip'd kernel's first 64 bytes too
        }
        return Arm64Image.isArm64Kernel(head) ? AARCH64 : X86_64;
    }
}
