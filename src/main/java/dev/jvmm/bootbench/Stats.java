package dev.jvmm.bootbench;

import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The five figures a boot-latency report gives for a set of measurements (min, p50, p90, p99,
 * max), with their count and mean, so every table, ratio and file agrees on one definition.
 *
 * <p>Percentiles interpolate linearly between the closest ranks, as numpy's default
 * ({@code method="linear"}, Hyndman and Fan's type 7): for p in [0, 1] over the n sorted values
 * x[0..n-1], h = (n − 1)·p and the result is x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]). So p50 of
 * an even count is the mean of the middle two, p0 is the min and p100 the max, and with few runs
 * p99 lies between the two largest rather than being the largest. An empty set gives count 0 and
 * NaN figures ({@link #isEmpty()}); reports print or write those as absent.
 */
public record Stats(int count, double min, double p50, double p90, double p99, double max, double mean) {
    public static final Stats EMPTY = new Stats(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);

    public static Stats of(Collection<? extends Number> values) {
        return of(values.stream().mapToDouble(Number::doubleValue).toArray());
    }

    public static Stats of(double... values) {
        if (values.length == 0) {
            return EMPTY;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double sum = 0;
        for (double v : sorted) {
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException("not a finite measurement: " + v);
            }
            sum += v;
        }
        return new Stats(sorted.length, sorted[0], percentile(sorted, 0.50), percentile(sorted, 0.90),
                percentile(sorted, 0.99), sorted[sorted.length - 1], sum / sorted.length);
    }

    /** The p-th quantile (p in [0, 1]) of ascending {@code sorted}, by linear interpolation between closest ranks. */
    public static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        if (p < 0 || p > 1) {
            throw new IllegalArgumentException("percentile outside [0, 1]: " + p);
        }
        double h = (sorted.length - 1) * p;
        int lower = (int) Math.floor(h);
        int upper = Math.min(lower + 1, sorted.length - 1);
        return sorted[lower] + (h - lower) * (sorted[upper] - sorted[lower]);
    }

    public boolean isEmpty() {
        return count == 0;
    }

    /** {@code {"count": n, "min": …, "p50": …, "p90": …, "p99": …, "max": …, "mean": …}}; only the count when empty. */
    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", count);
        if (!isEmpty()) {
            m.put("min", min);
            m.put("p50", p50);
            m.put("p90", p90);
            m.put("p99", p99);
            m.put("max", max);
            m.put("mean", mean);
        }
        return m;
    }
}
