package dev.jvmm.cli;

import dev.jvmm.machine.ExitCodes;
import dev.jvmm.vmm.kvm.KvmSystem;
import dev.jvmm.vmm.selftest.TinyGuests;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "selftest", mixinStandardHelpOptions = true,
        description = {"Check the KVM plumbing with tiny hand-assembled guests.",
                "Port I/O, MMIO, HLT, guest memory both ways, two vCPUs; without /dev/kvm (--lab=auto) they run",
                "inside the nested lab's real KVM."})
final class SelftestCommand implements Callable<Integer> {
    @Option(names = "--lab", defaultValue = "auto", description = "auto (when there is no /dev/kvm), always, never")
    LabMode lab;

    @Option(names = "--show-cpuid", description = "also list the CPUID leaves KVM offers guests")
    boolean showCpuid;

    @Override
    public Integer call() throws Exception {
        if (Guest.tinyGuestsInLab(lab, "self-test", System.err)) {
            List<String> inner = new java.util.ArrayList<>(List.of("selftest", "--lab=never"));
            if (showCpuid) {
                inner.add("--show-cpuid");
            }
            return Guest.runInLab(inner, 64, 2, 600);
        }
        int failed = 0;
        try (KvmSystem kvm = KvmSystem.open()) {
            List<TinyGuests.Check> checks = TinyGuests.runAll(kvm);
            for (TinyGuests.Check c : checks) {
                System.out.printf("%-4s %-24s %s%n", c.passed() ? "ok" : "FAIL", c.name(), c.detail());
                if (!c.passed()) {
                    failed++;
                }
            }
            System.out.printf("selftest: %d passed, %d failed%n", checks.size() - failed, failed);
            System.out.println("cpuid intercepted: " + TinyGuests.cpuidIsVirtualized(kvm));
            Boolean xsetbv = TinyGuests.xsetbvReachesKvm(kvm);
            System.out.println("xsetbv reaches KVM: " + (xsetbv == null ? "no XSAVE" : xsetbv
                    + (xsetbv ? "" : " (KVM kept XCR0 at its reset value; jvmm sets the guest's XCR0 itself)")));
            if (showCpuid) {
                for (var e : kvm.supportedCpuid().entries()) {
                    System.out.printf("cpuid 0x%08x.%d flags %d: eax %08x ebx %08x ecx %08x edx %08x%n", e.function,
                            e.index, e.flags, e.eax, e.ebx, e.ecx, e.edx);
                }
            }
        }
        return failed == 0 ? 0 : ExitCodes.INTERNAL_ERROR;
    }
}
