package dev.jvmm.cli;

import dev.jvmm.lab.Lab;
import dev.jvmm.lab.LabArch;
import dev.jvmm.machine.ExitCodes;
import dev.jvmm.machine.Startup;
import dev.jvmm.vmm.kvm.KvmSystem;
import dev.jvmm.vmm.selftest.Arm64TinyGuest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * What the KVM jvmm runs on offers, as jvmm's own classes see it: the capabilities it answers,
 * and on arm64 the preferred vCPU target and a tiny guest through jvmm's vCPU and GIC set-up.
 * Hidden: it exists to prove a lab (the arm64 one above all) end to end — its JVM, jvmm's native library and KVM —
 * and to time the inner JVM's start there.
 */
@Command(name = "kvm-report", hidden = true, mixinStandardHelpOptions = true,
        description = "Report the KVM here (capabilities; arm64: preferred target and a tiny guest), or in a lab.")
final class KvmReportCommand implements Callable<Integer> {
    /** KVM_CAP_* numbers (linux/kvm.h, the same on every architecture), in the order printed. */
    static final Map<String, Integer> CAPABILITIES = new LinkedHashMap<>();

    static {
        CAPABILITIES.put("KVM_CAP_IRQCHIP", 0);
        CAPABILITIES.put("KVM_CAP_USER_MEMORY", 3);
        CAPABILITIES.put("KVM_CAP_NR_VCPUS", 9);
        CAPABILITIES.put("KVM_CAP_NR_MEMSLOTS", 10);
        CAPABILITIES.put("KVM_CAP_MP_STATE", 14);
        CAPABILITIES.put("KVM_CAP_IRQFD", 32);
        CAPABILITIES.put("KVM_CAP_IOEVENTFD", 36);
        CAPABILITIES.put("KVM_CAP_MAX_VCPUS", 66);
        CAPABILITIES.put("KVM_CAP_ONE_REG", 70);
        CAPABILITIES.put("KVM_CAP_READONLY_MEM", 81);
        CAPABILITIES.put("KVM_CAP_DEVICE_CTRL", 89);
        CAPABILITIES.put("KVM_CAP_IMMEDIATE_EXIT", 136);
        CAPABILITIES.put("KVM_CAP_ARM_PSCI_0_2", 102);
        CAPABILITIES.put("KVM_CAP_ARM_PMU_V3", 126);
        CAPABILITIES.put("KVM_CAP_ARM_VM_IPA_SIZE", 165);
        CAPABILITIES.put("KVM_CAP_ARM_SVE", 170);
        CAPABILITIES.put("KVM_CAP_ARM_PTRAUTH_ADDRESS", 171);
        CAPABILITIES.put("KVM_CAP_EXT_CPUID", 7);
        CAPABILITIES.put("KVM_CAP_PIT2", 33);
        CAPABILITIES.put("KVM_CAP_XSAVE", 55);
        CAPABILITIES.put("KVM_CAP_XCRS", 56);
    }

    static final List<String> X86_CAPABILITIES = List.of("KVM_CAP_EXT_CPUID", "KVM_CAP_PIT2", "KVM_CAP_XSAVE",
            "KVM_CAP_XCRS");

    @Option(names = "--lab", defaultValue = "auto",
            description = "auto (when there is no /dev/kvm or --arch is not this host's), always, never")
    LabMode lab;

    @Option(names = "--arch", description = "the KVM's architecture: x86_64 or aarch64 (default: this host's)")
    String arch;

    @Override
    public Integer call() throws Exception {
        LabArch host = LabArch.host();
        LabArch want = arch == null ? host : LabArch.named(arch);
        boolean inLab = lab == LabMode.always || lab == LabMode.auto
                && (want != host || !Files.exists(Path.of(KvmSystem.DEFAULT_PATH)));
        if (inLab) {
            if (lab == LabMode.auto) {
                System.err.println("jvmm: running the KVM report in the " + want.label() + " lab");
            }
            return new Lab(System.err, want).run(new Lab.Request(List.of("kvm-report", "--lab=never"), Map.of(), 64, 1,
                    300, false), System.in, new FileOutputStream(FileDescriptor.out));
        }
        if (want != host) {
            throw new IllegalArgumentException("--arch " + want.label() + " needs the lab on this " + host.label()
                    + " host (--lab=auto)");
        }
        boolean ok = true;
        try (KvmSystem kvm = KvmSystem.open()) {
            System.out.println("kvm-report: " + host.label() + " " + kernelRelease() + ", " + KvmSystem.DEFAULT_PATH
                    + " API " + KvmSystem.EXPECTED_API_VERSION);
            for (Map.Entry<String, Integer> c : CAPABILITIES.entrySet()) {
                boolean arm = c.getKey().startsWith("KVM_CAP_ARM");
                boolean x86 = X86_CAPABILITIES.contains(c.getKey());
                if (arm && host == LabArch.AARCH64 || x86 && host == LabArch.X86_64 || !arm && !x86) {
                    System.out.printf("cap %-28s %d%n", c.getKey(), kvm.checkExtension(c.getValue()));
                }
            }
            if (host == LabArch.AARCH64) {
                Arm64TinyGuest.Outcome o = Arm64TinyGuest.run(kvm);
                int[] t = o.preferredTarget();
                System.out.printf("arm64 preferred target %d, features 0x%x; GICv%d%n", t[0], t[1], o.gicVersion());
                for (String e : o.exits()) {
                    System.out.println("arm64 tiny guest: " + e);
                }
                System.out.println("arm64 tiny guest " + (o.passed() ? "passed" : "FAILED, expected " + Arm64TinyGuest.Outcome.expected()));
                ok = o.passed();
            } else {
                System.out.println("x86 supported CPUID entries " + kvm.supportedCpuid().entries().size());
            }
        }
        System.out.println(jvmTimes());
        return ok ? 0 : ExitCodes.INTERNAL_ERROR;
    }

    private static String kernelRelease() {
        try {
            return "Linux " + Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        } catch (IOException e) {
            return "Linux";
        }
    }

    /**
     * When this JVM started, on the machine's uptime, and how long it took to main and to here:
     * in a lab, the L1 boot up to the inner jvmm and the inner JVM's own start.
     */
    static String jvmTimes() {
        long now = System.nanoTime();
        Startup.Origin origin = Startup.origin();
        double uptime = -1;
        try {
            uptime = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            // no /proc: the uptime is left out
        }
        long main = Startup.mainEnteredNanos();
        // java.vm.info says "sharing" when the JVM runs from a class-data archive.
        return String.format(Locale.ROOT, "jvm: started at uptime %.2f s, main entered +%.0f ms, report done +%.0f ms"
                        + " (origin: %s; %s)", uptime - (now - origin.nanos()) / 1e9,
                (main - origin.nanos()) / 1e6, (now - origin.nanos()) / 1e6, origin.source(),
                System.getProperty("java.vm.info", "").contains("sharing") ? "class data shared" : "no class-data archive");
    }
}
