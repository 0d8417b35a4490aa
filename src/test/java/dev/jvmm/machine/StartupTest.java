package dev.jvmm.machine;

import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The process origin: the starter's stamp, else the launcher's, else the kernel's; stale ones refused. */
class StartupTest {
    private static final long NOW = 1_000_000_000_000L;
    private static final Instant WALL = Instant.ofEpochSecond(1_764_000_000L, 500_000_000);

    @Test
    void starterStampWins() {
        Startup.Origin o = Startup.find(Long.toString(NOW - 80_000_000L), "1764000000.400000", NOW - 90_000_000L, NOW, WALL);
        assertEquals("starter", o.source());
        assertEquals(NOW - 80_000_000L, o.nanos());
    }

    @Test
    void launcherEpochIsConvertedThroughTheWallClock() {
        Startup.Origin o = Startup.find(null, "1764000000.400000", NOW - 110_000_000L, NOW, WALL);
        assertEquals("launcher", o.source());
        assertEquals(NOW - 100_000_000L, o.nanos()); // 0.1 s before "now" on the wall clock
    }

    @Test
    void commaDecimalSeparatorIsRead() {
        assertEquals(1_764_000_000_400_000_000L, Startup.parseEpoch("1764000000,400000"));
    }

    @Test
    void malformedStampsAreRefusedAsTheirPatternsOnceRefusedThem() {
        for (String bad : new String[]{"", ".", "1764000000.", ".400000", "1764000000.4000000000", "1234567890123.1",
                "17640000a0.400000", "1764000000.40000x", "-1764000000.4", "1764000000 400000", "1764000000.4.5"}) {
            assertEquals(null, Startup.parseEpoch(bad), bad);
        }
        assertEquals(1_000_000_001L, Startup.parseEpoch("1.000000001"));
        assertEquals(1_764_000_000_000_000_000L + 5, Startup.parseEpoch("1764000000.000000005"));
        Startup.Origin o = Startup.find("-", null, -1, NOW, WALL);
        assertEquals("none", o.source(), "a lone minus sign is no stamp");
        assertEquals("starter", Startup.find(Long.toString(NOW - 1_000), null, -1, NOW, WALL).source());
    }

    @Test
    void stampFromAParentProcessIsIgnored() {
        // Inherited through the environment: 5 s before this process's own (coarse) start.
        Startup.Origin o = Startup.find(Long.toString(NOW - 5_000_000_000L), "1763999995.500000", NOW - 200_000_000L, NOW, WALL);
        assertEquals("kernel", o.source());
        assertEquals(NOW - 200_000_000L, o.nanos());
    }

    @Test
    void garbageFallsBack() {
        Startup.Origin o = Startup.find("12abc", "yesterday", -1, NOW, WALL);
        assertEquals("none", o.source());
        assertEquals(NOW, o.nanos());
    }

    @Test
    void coarseStartOfThisProcessIsInThePast() {
        long coarse = Startup.coarseStartNanos();
        assertTrue(coarse > 0 && coarse <= System.nanoTime(), "from /proc/self/stat");
    }
}
