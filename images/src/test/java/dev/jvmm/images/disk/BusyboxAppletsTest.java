package dev.jvmm.images.disk;

import dev.jvmm.images.Cache;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The applet list of a busybox that cannot run here, read from its string table: the same list
 * the host's busybox gives with --list, for the host's binary; arm64's where the arm64 lab has
 * fetched it; bad tables refused in one line.
 */
class BusyboxAppletsTest {
    private static final Path HOST = Path.of("/bin/busybox");

    @Test
    void theTableOfTheHostsBusyboxIsWhatItsListSays() throws Exception {
        assumeTrue(Files.isExecutable(HOST), "no /bin/busybox here");
        List<String> listed = BusyboxApplets.of(HOST, true);
        List<String> table = BusyboxApplets.of(HOST, false);
        assertEquals(listed, table);
        assertTrue(table.size() > 200 && table.containsAll(List.of("[", "sh", "mount", "devmem", "unshare", "switch_root")),
                table.toString());
    }

    @Test
    void theArm64BusyboxHoldsTheAppletsTheImageInitUses() throws Exception {
        Path lab = Cache.dir("lab");
        Path arm64 = null;
        if (Files.isDirectory(lab)) {
            try (Stream<Path> s = Files.list(lab)) {
                arm64 = s.filter(p -> p.getFileName().toString().startsWith("userland-aarch64-"))
                        .map(p -> p.resolve("bin/busybox")).filter(Files::isRegularFile).findFirst().orElse(null);
            }
        }
        assumeTrue(arm64 != null, "the arm64 lab's busybox is not fetched here (jvmm initramfs --arch aarch64 fetches it)");
        byte[] elf = Files.readAllBytes(arm64);
        assertEquals(183, elf[18] & 0xff, "an aarch64 binary (e_machine 183)");
        List<String> applets = BusyboxApplets.of(arm64, false);
        assertTrue(applets.containsAll(List.of("sh", "mount", "devmem", "unshare", "chroot", "setsid", "cttyhack", "sed",
                "poweroff", "dd", "sha256sum", "uname")), applets.toString());
    }

    @Test
    void aBinaryWithoutATableOrWithABrokenOneIsRefused() {
        assertEquals("x: no busybox applet table (\"[\", \"[[\", ...) in it",
                assertThrows(IOException.class, () -> BusyboxApplets.fromTable(bytes("ELF, no table"), "x")).getMessage());
        assertEquals("x: busybox applet table does not end",
                assertThrows(IOException.class, () -> BusyboxApplets.fromTable(bytes("..[\0[[\0ls"), "x")).getMessage());
        assertEquals("x: busybox applet table holds a name that is none: a/b",
                assertThrows(IOException.class, () -> BusyboxApplets.fromTable(bytes("[\0[[\0a/b\0\0"), "x")).getMessage());
        StringBuilder endless = new StringBuilder("[\0[[\0");
        for (int i = 0; i < BusyboxApplets.MAX_APPLETS + 5; i++) {
            endless.append("a").append(i).append('\0');
        }
        assertEquals("x: busybox applet table does not end", assertThrows(IOException.class,
                () -> BusyboxApplets.fromTable(bytes(endless + "\0"), "x")).getMessage(), "capped");
    }

    @Test
    void theTableEndsAtItsEmptyName() throws Exception {
        assertEquals(List.of("[", "[[", "ls", "sh"), BusyboxApplets.fromTable(bytes("junk[\0[[\0ls\0sh\0\0more\0"), "x"));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
