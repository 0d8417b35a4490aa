package dev.jvmm.machine.arch;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ArchTest {
    @Test
    void theHostsArchitectureComesFromTheJvmsName() {
        assertEquals(Arch.x86_64, Arch.ofHost("amd64"));
        assertEquals(Arch.x86_64, Arch.ofHost("x86_64"));
        assertEquals(Arch.aarch64, Arch.ofHost("aarch64"));
        assertEquals(Arch.aarch64, Arch.ofHost("ARM64"));
    }

    @Test
    void namesParseAsUnameSpellsThemAndNothingElse() {
        assertEquals(Arch.aarch64, Arch.parse("aarch64"));
        assertEquals(Arch.x86_64, Arch.parse("x86_64"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Arch.parse("arm64"));
        assertEquals("unknown architecture 'arm64': x86_64 or aarch64", e.getMessage());
    }
}
