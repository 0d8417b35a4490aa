package dev.jvmm.lab;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Arm64LabPiecesTest {
    @TempDir
    Path userland;

    private void lib(String dir, String name, String... needed) throws IOException {
        Path p = userland.resolve(dir).resolve(name);
        Files.createDirectories(p.getParent());
        Files.write(p, ElfFileTest.elf(ElfFile.EM_AARCH64, null, 0, needed));
    }

    @Test
    void theClosureTakesWhatTheRuntimeNeedsTransitivelyAndNothingItHasItself() throws IOException {
        lib("lib/aarch64-linux-gnu", "libc.so.6", "ld-linux-aarch64.so.1");
        lib("lib/aarch64-linux-gnu", "libm.so.6", "libc.so.6");
        lib("lib/aarch64-linux-gnu", "libz.so.1", "libc.so.6");
        lib("lib/aarch64-linux-gnu", "libunused.so.1", "libc.so.6");
        lib("usr/lib/aarch64-linux-gnu", "libstdc++.so.6", "libm.so.6", "libc.so.6", "libgcc_s.so.1");
        lib("lib/aarch64-linux-gnu", "libgcc_s.so.1", "libc.so.6");
        Map<String, byte[]> binaries = new LinkedHashMap<>();
        binaries.put("jre/bin/java", ElfFileTest.elf(ElfFile.EM_AARCH64, "/lib/ld-linux-aarch64.so.1", 0x10000,
                "libz.so.1", "libjli.so", "libc.so.6"));
        binaries.put("jre/lib/libjli.so", ElfFileTest.elf(ElfFile.EM_AARCH64, null, 0, "libc.so.6"));
        binaries.put("jre/lib/server/libjvm.so", ElfFileTest.elf(ElfFile.EM_AARCH64, null, 0, "libstdc++.so.6", "libm.so.6"));
        List<Path> libs = Arm64LabPieces.libraryClosure(binaries, userland);
        assertEquals(List.of("lib/aarch64-linux-gnu/libz.so.1", "lib/aarch64-linux-gnu/libc.so.6",
                        "usr/lib/aarch64-linux-gnu/libstdc++.so.6", "lib/aarch64-linux-gnu/libm.so.6",
                        "lib/aarch64-linux-gnu/libgcc_s.so.1"),
                libs.stream().map(Path::toString).toList(), "the loader is packed on its own; libunused is not needed");
    }

    @Test
    void aMissingLibraryIsNamedWithWhoNeedsIt() throws IOException {
        lib("lib/aarch64-linux-gnu", "libc.so.6");
        Map<String, byte[]> binaries = Map.of("META-INF/native/libnetty.so",
                ElfFileTest.elf(ElfFile.EM_AARCH64, null, 0, "libcrypt.so.1"));
        IOException e = assertThrows(IOException.class, () -> Arm64LabPieces.libraryClosure(binaries, userland));
        assertTrue(e.getMessage().contains("libcrypt.so.1") && e.getMessage().contains("libnetty.so"), e.getMessage());
    }

    @Test
    void anX86BinaryAmongTheArm64OnesIsRefused() {
        Map<String, byte[]> binaries = Map.of("jre/bin/java", ElfFileTest.elf(ElfFile.EM_X86_64, null, 0, "libc.so.6"));
        IOException e = assertThrows(IOException.class, () -> Arm64LabPieces.libraryClosure(binaries, userland));
        assertTrue(e.getMessage().contains("not an arm64"), e.getMessage());
    }

    @Test
    void aptPolicyGivesEachPackagesCandidate() {
        String policy = """
                libc6:arm64:
                  Installed: (none)
                  Candidate: 2.36-9+deb12u14
                  Version table:
                     2.36-9+deb12u14 500
                        500 http://deb.debian.org/debian bookworm/main arm64 Packages
                busybox-static:arm64:
                  Installed: (none)
                  Candidate: 1:1.35.0-4+deb12u1+b1
                nosuch:arm64:
                  Installed: (none)
                  Candidate: (none)
                """;
        Map<String, String> c = DebianArm64.parsePolicy(policy);
        assertEquals(Map.of("libc6", "2.36-9+deb12u14", "busybox-static", "1:1.35.0-4+deb12u1+b1"), c);
        assertEquals(Map.of(), DebianArm64.parsePolicy(null));
    }
}
