package dev.jvmm.vmm.sys;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a user sees when a TAP cannot be had: a sentence, never a crash. */
class TapTest {
    @Test
    void attachingToAnInterfaceThatIsNoTapFailsClearly() {
        // "lo" always exists and is not a TAP: refused whether or not this test runs as root.
        Tap.TapException e = assertThrows(Tap.TapException.class, () -> Tap.open("lo", 12));
        String m = e.getMessage();
        assertTrue(m.contains("not a TAP") || m.contains("permission denied") || m.contains("/dev/net/tun"), m);
    }
}
