package dev.jvmm.e2e;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The KVM plumbing tests (tiny guests) on a real KVM: the host's, or the lab's where the host has none. */
class LabSelftestIT {
    @Test
    void tinyGuestsPassOnRealKvm() throws Exception {
        Jvmm.Result r = Jvmm.run(600, "selftest");
        assertEquals(0, r.status(), r.all());
        assertTrue(r.out().contains("selftest: 4 passed, 0 failed"), r.all());
        assertTrue(r.out().contains("cpuid intercepted: true"), "a KVM that runs Linux intercepts CPUID: " + r.all());
    }
}
