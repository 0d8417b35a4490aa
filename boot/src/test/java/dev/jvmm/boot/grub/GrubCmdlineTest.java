package dev.jvmm.boot.grub;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** grub_create_loader_cmdline's quoting, and what Linux's parser makes of it. */
class GrubCmdlineTest {
    @Test
    void wordsJoinWithSpacesAndOnlyWordsWithSpacesAreQuoted() {
        assertEquals("a b=c", GrubEntry.loaderCmdline(List.of("a", "b=c")));
        assertEquals("\"a b\" c", GrubEntry.loaderCmdline(List.of("a b", "c")));
        assertEquals("a\tb", GrubEntry.loaderCmdline(List.of("a\tb")), "only ' ' counts as a space");
        assertEquals("", GrubEntry.loaderCmdline(List.of()));
        assertEquals("x  y", GrubEntry.loaderCmdline(List.of("x", "", "y")), "an empty word still takes its separator");
    }

    @Test
    void backslashAndQuotesAreEscaped() {
        assertEquals("a\\\\b c\\'d e\\\"f", GrubEntry.loaderCmdline(List.of("a\\b", "c'd", "e\"f")));
        assertEquals("\"x=\\\"a b\\\"\"", GrubEntry.loaderCmdline(List.of("x=\"a b\"")));
    }

    @Test
    void linuxReadsAQuotedParameterWithSpacesAsOne() {
        String line = GrubEntry.loaderCmdline(List.of("ro", "dm-mod.create=a,,,ro,0 8 verity 1", "panic=10"));
        assertEquals("ro \"dm-mod.create=a,,,ro,0 8 verity 1\" panic=10", line);
        assertEquals(List.of(new LinuxCmdline.Param("ro", null), new LinuxCmdline.Param("dm-mod.create", "a,,,ro,0 8 verity 1"),
                new LinuxCmdline.Param("panic", "10")), LinuxCmdline.parse(line));
    }
}
