package dev.jvmm.machine;

import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Boot milestones with their time since the jvmm process started. Printed with --timeline;
 * "guest ready" is the boot-timer write (Firecracker's measure of boot time).
 */
public final class Timeline {
    public record Event(String name, long nanosSinceStart) {}

    private final long originNanos;
    private final List<Event> events = new ArrayList<>();

    public Timeline() {
        Instant processStart = ProcessHandle.current().info().startInstant().orElse(Instant.now());
        long sinceProcessStart = Duration.between(processStart, Instant.now()).toNanos();
        this.originNanos = System.nanoTime() - Math.max(0, sinceProcessStart);
        mark("jvmm process started");
        events.set(0, new Event("jvmm process started", 0));
    }

    public synchronized void mark(String name) {
        events.add(new Event(name, System.nanoTime() - originNanos));
    }

    /** Marks {@code name} only the first time it is called with it. */
    public synchronized void markOnce(String name) {
        if (events.stream().noneMatch(e -> e.name().equals(name))) {
            mark(name);
        }
    }

    public synchronized List<Event> events() {
        return List.copyOf(events);
    }

    public synchronized Long millisOf(String name) {
        return events.stream().filter(e -> e.name().equals(name)).map(e -> e.nanosSinceStart() / 1_000_000)
                .findFirst().orElse(null);
    }

    public void print(PrintStream out) {
        out.println("\r\njvmm timeline (ms since the jvmm process started):\r");
        long prev = 0;
        for (Event e : events()) {
            out.printf("  %8.1f  (+%7.1f)  %s\r%n", e.nanosSinceStart() / 1e6, (e.nanosSinceStart() - prev) / 1e6, e.name());
            prev = e.nanosSinceStart();
        }
        out.flush();
    }
}
