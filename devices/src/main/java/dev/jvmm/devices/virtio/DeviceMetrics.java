package dev.jvmm.devices.virtio;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Named counters of one device (requests, bytes, errors ...), safe to bump from any thread and
 * read at exit for {@code --metrics}. Counters appear in the order they were declared.
 */
public final class DeviceMetrics {
    private final Map<String, AtomicLong> counters = new LinkedHashMap<>();

    /** Declares the counters up front so a zero still shows in the output. */
    public DeviceMetrics(String... names) {
        for (String n : names) {
            counters.put(n, new AtomicLong());
        }
    }

    public AtomicLong counter(String name) {
        synchronized (counters) {
            return counters.computeIfAbsent(name, k -> new AtomicLong());
        }
    }

    public void add(String name, long delta) {
        counter(name).addAndGet(delta);
    }

    public void increment(String name) {
        add(name, 1);
    }

    public long get(String name) {
        AtomicLong c;
        synchronized (counters) {
            c = counters.get(name);
        }
        return c == null ? 0 : c.get();
    }

    public Map<String, Long> snapshot() {
        Map<String, Long> out = new LinkedHashMap<>();
        synchronized (counters) {
            counters.forEach((k, v) -> out.put(k, v.get()));
        }
        return out;
    }
}
