package dev.jvmm.e2e;

import org.junit.jupiter.api.Test;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The arm64 lab end to end, in one L1 start: QEMU virt with EL2 boots Debian's arm64 kernel,
 * whose KVM comes up in VHE mode; the inner jvmm runs on the arm64 Java runtime, opens /dev/kvm
 * through jvmm's JNI library, reads its capabilities and runs a tiny arm64 guest through jvmm's vCPU and GIC
 * set-up (MMIO both ways, PSCI SYSTEM_OFF).
 */
class Arm64LabIT {
    @Test
    void theInnerJvmmRunsOnArm64AndItsKvmRunsAGuest() throws Exception {
        Jvmm.Result r = Jvmm.run(900, "kvm-report", "--arch", "aarch64", "--lab=always");
        assertEquals(0, r.status(), r.all());
        String out = r.out();
        assertTrue(out.contains("kvm-report: aarch64 Linux 6.1"), out);
        assertTrue(Pattern.compile("cap KVM_CAP_ARM_PSCI_0_2\\s+1").matcher(out).find(), out);
        assertTrue(Pattern.compile("cap KVM_CAP_IRQFD\\s+1").matcher(out).find(), out);
        assertTrue(out.contains("arm64 preferred target"), out);
        assertTrue(out.contains("GICv3"), "QEMU's virt with gic-version=3 gives L1 a GICv3, so KVM emulates one: " + out);
        assertTrue(out.contains("arm64 tiny guest: mmio read 0x40000004 4"), out);
        assertTrue(out.contains("arm64 tiny guest passed"), out);
        Matcher jvm = Pattern.compile("jvm: started at uptime ([\\d.]+) s, main entered \\+(\\d+) ms").matcher(out);
        assertTrue(jvm.find(), out);
        System.out.printf("arm64 lab: %.1f s wall; inner JVM started at L1 uptime %s s, main entered after %s ms%n",
                r.millis() / 1000.0, jvm.group(1), jvm.group(2));
    }
}
