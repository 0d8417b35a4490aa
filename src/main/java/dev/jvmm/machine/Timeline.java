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
    /** Shared by every pass view of one timeline; also its lock. */
    private final List<Event> events;
    private final String prefix;

    public Timeline() {
        Instant processStart = ProcessHandle.current().info().startInstant().orElse(Instant.now());
        long sinceProcessStart = Duration.between(processStart, Instant.now()).toNanos();
        this.originNanos = System.nanoTime() - Math.max(0, sinceProcessStart);
        this.events = new ArrayList<>();
        this.prefix = "";
        events.add(new Event("jvmm process started", 0));
    }

    private Timeline(long originNanos, List<Event> events, String prefix) {
        this.originNanos = originNanos;
        this.events = events;
        this.prefix = prefix;
    }

    /** The same timeline whose marks are named "boot N: ...": one view per firmware pass of an image boot. */
    public Timeline forPass(int pass) {
        return new Timeline(originNanos, events, "boot " + pass + ": ");
    }

    /** The full name a mark of this view gets. */
    public String name(String event) {
        return prefix + event;
    }

    public void mark(String name) {
        synchronized (events) {
            events.add(new Event(prefix + name, System.nanoTime() - originNanos));
        }
    }

    /** Marks {@code name} only the first time it is called with it (in this view). */
    public void markOnce(String name) {
        synchronized (events) {
            String full = prefix + name;
            if (events.stream().noneMatch(e -> e.name().equals(full))) {
                mark(name);
            }
        }
    }

    public List<Event> events() {
        synchronized (events) {
            return List.copyOf(events);
        }
    }

    /** Milliseconds of the first mark with this full name, or null. */
    public Long millisOf(String fullName) {
        synchronized (events) {
            return events.stream().filter(e -> e.name().equals(fullName)).map(e -> e.nanosSinceStart() / 1_000_000)
                    .findFirst().orElse(null);
        }
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
