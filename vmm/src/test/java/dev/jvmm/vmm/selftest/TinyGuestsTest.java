package dev.jvmm.vmm.selftest;

import dev.jvmm.vmm.kvm.KvmSystem;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The KVM plumbing on this host's /dev/kvm. Hosts without /dev/kvm skip it here; the
 * end-to-end suite runs the same guests inside the nested lab (jvmm selftest).
 */
class TinyGuestsTest {
    @Test
    void tinyGuestsRunOnHostKvm() throws Exception {
        Assumptions.assumeTrue(Files.exists(Path.of(KvmSystem.DEFAULT_PATH)),
                "/dev/kvm is absent on this host; LabSelftestIT runs these guests in the lab");
        try (KvmSystem kvm = KvmSystem.open()) {
            for (TinyGuests.Check c : TinyGuests.runAll(kvm)) {
                assertTrue(c.passed(), c.name() + ": " + c.detail());
            }
        }
    }

    @Test
    void exitLoopProgramEncodesItsCount() {
        byte[] p = TinyGuests.portWriteLoop(0x01020304);
        assertTrue(p[2] == 4 && p[3] == 3 && p[4] == 2 && p[5] == 1, "ecx immediate, little-endian");
        assertTrue(p[p.length - 1] == (byte) 0xf4, "ends in hlt");
    }
}
