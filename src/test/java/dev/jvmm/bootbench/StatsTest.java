package dev.jvmm.bootbench;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Percentiles by linear interpolation between closest ranks (h = (n − 1)·p). The expected values
 * are worked by hand below each case; Python's statistics.quantiles(method="inclusive"), the same
 * rule, gives the same numbers.
 */
class StatsTest {
    private static final double EPS = 1e-9;

    private static void assertStats(Stats s, int count, double min, double p50, double p90, double p99, double max,
                                    double mean) {
        assertEquals(count, s.count(), "count");
        assertEquals(min, s.min(), EPS, "min");
        assertEquals(p50, s.p50(), EPS, "p50");
        assertEquals(p90, s.p90(), EPS, "p90");
        assertEquals(p99, s.p99(), EPS, "p99");
        assertEquals(max, s.max(), EPS, "max");
        assertEquals(mean, s.mean(), EPS, "mean");
    }

    @Test
    void empty() {
        Stats s = Stats.of(List.of());
        assertTrue(s.isEmpty());
        assertEquals(0, s.count());
        assertTrue(Double.isNaN(s.p50()));
        assertEquals(List.of("count"), List.copyOf(s.toJson().keySet()));
    }

    @Test
    void oneValueIsEveryPercentile() {
        assertStats(Stats.of(812.5), 1, 812.5, 812.5, 812.5, 812.5, 812.5, 812.5);
    }

    @Test
    void twoValues() {
        // [1, 3]: h = p; p50 = 1 + 0.5·2 = 2, p90 = 1 + 0.9·2 = 2.8, p99 = 1 + 0.99·2 = 2.98
        assertStats(Stats.of(3, 1), 2, 1, 2, 2.8, 2.98, 3, 2);
    }

    @Test
    void tenValues() {
        // 1..10: p50 h = 4.5 -> 5 + 0.5 = 5.5; p90 h = 8.1 -> 9 + 0.1 = 9.1; p99 h = 8.91 -> 9.91
        double[] v = IntStream.rangeClosed(1, 10).asDoubleStream().toArray();
        assertStats(Stats.of(v), 10, 1, 5.5, 9.1, 9.91, 10, 5.5);
    }

    @Test
    void hundredValues() {
        // 1..100: p50 h = 49.5 -> 50.5; p90 h = 89.1 -> 90.1; p99 h = 98.01 -> 99.01
        double[] v = IntStream.rangeClosed(1, 100).map(i -> 101 - i).asDoubleStream().toArray();
        assertStats(Stats.of(v), 100, 1, 50.5, 90.1, 99.01, 100, 50.5);
    }

    @Test
    void unsortedInput() {
        // sorted [1, 2, 3, 7, 8, 9]: p50 h = 2.5 -> 3 + 0.5·4 = 5; p90 h = 4.5 -> 8.5; p99 h = 4.95 -> 8.95
        assertStats(Stats.of(List.of(9, 1, 8, 2, 7, 3)), 6, 1, 5, 8.5, 8.95, 9, 5);
    }

    @Test
    void ties() {
        // [2, 2, 2, 5]: p50 h = 1.5 -> 2; p90 h = 2.7 -> 2 + 0.7·3 = 4.1; p99 h = 2.97 -> 2 + 0.97·3 = 4.91
        assertStats(Stats.of(2, 5, 2, 2), 4, 2, 2, 4.1, 4.91, 5, 2.75);
        assertStats(Stats.of(7, 7, 7), 3, 7, 7, 7, 7, 7, 7);
    }

    @Test
    void inputIsNotReordered() {
        double[] v = {3, 1, 2};
        Stats.of(v);
        assertEquals(3, v[0]);
    }

    @Test
    void percentileEnds() {
        double[] sorted = {1, 4, 10};
        assertEquals(1, Stats.percentile(sorted, 0), EPS);
        assertEquals(10, Stats.percentile(sorted, 1), EPS);
        assertEquals(2.5, Stats.percentile(sorted, 0.25), EPS); // h = 0.5 -> 1 + 0.5·3
        assertThrows(IllegalArgumentException.class, () -> Stats.percentile(sorted, 1.5));
    }

    @Test
    void nonFiniteMeasurementsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Stats.of(1, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Stats.of(Double.POSITIVE_INFINITY));
    }
}
