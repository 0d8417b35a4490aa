package dev.jvmm.boot;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Where the platform word lands on a command line: at the end, never among init's arguments. */
class PlatformWordTest {
    @Test
    void theWordNamesTheAddressInHex() {
        assertEquals("jvmm.platform=0x40000000", PlatformWord.word(0x4000_0000L));
        assertEquals("jvmm.platform=0xc0000000", PlatformWord.word(0xC000_0000L));
    }

    @Test
    void addedAtTheEnd() {
        assertEquals("console=ttyS0 panic=1 jvmm.platform=0xc0000000", PlatformWord.addTo("console=ttyS0 panic=1", 0xC000_0000L));
        assertEquals("jvmm.platform=0x40000000", PlatformWord.addTo("", 0x4000_0000L));
        assertEquals("jvmm.platform=0x40000000", PlatformWord.addTo("  ", 0x4000_0000L));
    }

    @Test
    void addedBeforeTheWordsInitGets() {
        assertEquals("console=ttyS0 jvmm.platform=0x40000000 -- single x",
                PlatformWord.addTo("console=ttyS0 -- single x", 0x4000_0000L));
        assertEquals("jvmm.platform=0x40000000 -- x", PlatformWord.addTo("-- x", 0x4000_0000L));
        assertEquals("a jvmm.platform=0x40000000 --", PlatformWord.addTo("a --", 0x4000_0000L));
    }

    @Test
    void aDashDashInsideQuotesOrAWordIsNotTheSeparator() {
        assertEquals("dm-mod.create=\"a -- b\" jvmm.platform=0x40000000",
                PlatformWord.addTo("dm-mod.create=\"a -- b\"", 0x4000_0000L));
        assertEquals("x=-- --y jvmm.platform=0x40000000", PlatformWord.addTo("x=-- --y", 0x4000_0000L));
    }
}
