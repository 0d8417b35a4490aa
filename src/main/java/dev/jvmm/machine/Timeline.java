package dev.jvmm.machine;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Boot milestones with their time since the jvmm process started ({@link Startup}: a precise
 * origin from the launcher or the starting process). Printed with --timeline, kept in --metrics;
 * "guest ready" is the boot-timer write (Firecracker's measure of boot time).
 */
public final class Timeline {
    public record Event(String name, long nanosSinceStart) {}

    private final long originNanos;
    /** Shared by every pass view of one timeline; also its lock. */
    private final List<Event> events;
    private final String prefix;
    /** Shared by every pass view, like events; -1 until a VM closes. */
    private final long[] guestResidentBytes;

    public Timeline() {
        this(Startup.origin().nanos(), Startup.mainEnteredNanos());
    }

    /** A timeline from {@code originNanos}; {@code mainNanos} (0: unknown) is when the JVM entered main. */
    Timeline(long originNanos, long mainNanos) {
        this.originNanos = originNanos;
        this.events = new ArrayList<>();
        this.prefix = "";
        this.guestResidentBytes = new long[] {-1};
        events.add(new Event("jvmm process started", 0));
        if (mainNanos != 0) {
            events.add(new Event(JVM_MAIN, Math.max(0, mainNanos - originNanos)));
        }
    }

    public static final String JVM_MAIN = "JVM entered main";

    private Timeline(long originNanos, List<Event> events, String prefix, long[] guestResidentBytes) {
        this.originNanos = originNanos;
        this.events = events;
        this.prefix = prefix;
        this.guestResidentBytes = guestResidentBytes;
    }

    /** The same timeline whose marks are named "boot N: ...": one view per firmware pass of an image boot. */
    public Timeline forPass(int pass) {
        return new Timeline(originNanos, events, "boot " + pass + ": ", guestResidentBytes);
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
            for (Event e : events) { // a loop, not a stream: this runs on the vCPU's first exit
                if (e.name().equals(full)) {
                    return;
                }
            }
            mark(name);
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

    /** Records guest RAM resident at a VM's close; the largest of a run's VMs is kept. */
    public void guestResident(long bytes) {
        synchronized (events) {
            guestResidentBytes[0] = Math.max(guestResidentBytes[0], bytes);
        }
    }

    public static final String HEADER = "jvmm timeline (ms since the jvmm process started):";
    public static final String MEMORY = "jvmm memory:";

    /**
     * The timeline, one mark a line, then the process's peak RSS and the guest's resident RAM
     * (what jvmm bench boot reads back with {@link TimelineText}).
     */
    public void print(PrintStream out) {
        out.println("\r\n" + HEADER + "\r");
        long prev = 0;
        for (Event e : events()) {
            out.printf("  %8.1f  (+%7.1f)  %s\r%n", e.nanosSinceStart() / 1e6, (e.nanosSinceStart() - prev) / 1e6, e.name());
            prev = e.nanosSinceStart();
        }
        long resident;
        synchronized (events) {
            resident = guestResidentBytes[0];
        }
        out.printf("%s peak RSS %d KiB, guest RAM resident %s\r%n", MEMORY, ProcessMemory.peakRssKib(),
                resident < 0 ? "unknown" : (resident >> 10) + " KiB");
        out.flush();
    }
}
