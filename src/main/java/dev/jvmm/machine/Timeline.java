package dev.jvmm.machine;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Boot milestones with their time since the jvmm process started ({@link Startup}: a precise
 * origin from the launcher or the starting process). Printed with --timeline, kept in --metrics;
 * "guest ready" is the boot-timer write (Firecracker's measure of boot time). A mark is one
 * System.nanoTime(); the origin (files under /proc, the launcher's stamp) is worked out when the
 * timeline is first read, after the boot, not on the way to its first KVM_RUN.
 */
public final class Timeline {
    public record Event(String name, long nanosSinceStart) {}

    /** A mark as taken: System.nanoTime(), or {@link #AT_ORIGIN}. */
    private record Mark(String name, long nanos) {}

    private static final long AT_ORIGIN = Long.MIN_VALUE;
    private static final long UNRESOLVED = Long.MIN_VALUE;

    /** The origin, shared by every pass view; UNRESOLVED until first needed. Guarded by marks. */
    private final long[] origin;
    /** Shared by every pass view of one timeline; also its lock. */
    private final List<Mark> marks;
    private final String prefix;
    /** Shared by every pass view, like marks; -1 until a VM closes. */
    private final long[] guestResidentBytes;

    public Timeline() {
        this(UNRESOLVED, Startup.mainEnteredNanos());
    }

    /** A timeline from {@code originNanos}; {@code mainNanos} (0: unknown) is when the JVM entered main. */
    Timeline(long originNanos, long mainNanos) {
        this.origin = new long[] {originNanos};
        this.marks = new ArrayList<>();
        this.prefix = "";
        this.guestResidentBytes = new long[] {-1};
        marks.add(new Mark("jvmm process started", AT_ORIGIN));
        if (mainNanos != 0) {
            marks.add(new Mark(JVM_MAIN, mainNanos));
        }
    }

    public static final String JVM_MAIN = "JVM entered main";

    private Timeline(long[] origin, List<Mark> marks, String prefix, long[] guestResidentBytes) {
        this.origin = origin;
        this.marks = marks;
        this.prefix = prefix;
        this.guestResidentBytes = guestResidentBytes;
    }

    /** The same timeline whose marks are named "boot N: ...": one view per firmware pass of an image boot. */
    public Timeline forPass(int pass) {
        return new Timeline(origin, marks, "boot " + pass + ": ", guestResidentBytes);
    }

    /** The full name a mark of this view gets. */
    public String name(String event) {
        return prefix + event;
    }

    public void mark(String name) {
        long now = System.nanoTime();
        synchronized (marks) {
            marks.add(new Mark(prefix + name, now));
        }
    }

    /** Marks {@code name} only the first time it is called with it (in this view). */
    public void markOnce(String name) {
        synchronized (marks) {
            String full = prefix + name;
            for (Mark m : marks) { // a loop, not a stream: this runs on the vCPU's first exit
                if (m.name().equals(full)) {
                    return;
                }
            }
            mark(name);
        }
    }

    /** The marks as events: nanoseconds since the process started (the origin is found now if not yet). */
    public List<Event> events() {
        synchronized (marks) {
            if (origin[0] == UNRESOLVED) {
                origin[0] = Startup.origin().nanos();
            }
            List<Event> events = new ArrayList<>(marks.size());
            for (Mark m : marks) {
                events.add(new Event(m.name(), m.nanos() == AT_ORIGIN ? 0 : Math.max(0, m.nanos() - origin[0])));
            }
            return List.copyOf(events);
        }
    }

    /** Milliseconds of the first mark with this full name, or null. */
    public Long millisOf(String fullName) {
        return events().stream().filter(e -> e.name().equals(fullName)).map(e -> e.nanosSinceStart() / 1_000_000)
                .findFirst().orElse(null);
    }

    /** Records guest RAM resident at a VM's close; the largest of a run's VMs is kept. */
    public void guestResident(long bytes) {
        synchronized (marks) {
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
            out.print("  " + millis(e.nanosSinceStart(), 8) + "  (+" + millis(e.nanosSinceStart() - prev, 7) + ")  "
                    + e.name() + "\r\n");
            prev = e.nanosSinceStart();
        }
        long resident;
        synchronized (marks) {
            resident = guestResidentBytes[0];
        }
        out.print(MEMORY + " peak RSS " + ProcessMemory.peakRssKib() + " KiB, guest RAM resident "
                + (resident < 0 ? "unknown" : (resident >> 10) + " KiB") + "\r\n");
        out.flush();
    }

    /**
     * {@code nanos} in milliseconds as {@code %<width>.1f} prints it (one decimal, half up), but
     * without java.util.Formatter: its first use compiles regexes whose lambdas spin classes, ~8
     * ms at the end of every boot on a lent 16-core machine (its class-load log), and far more
     * under the lab's TCG.
     */
    static String millis(long nanos, int width) {
        long tenths = (Math.abs(nanos) + 50_000) / 100_000;
        String digits = (nanos < 0 ? "-" : "") + tenths / 10 + "." + tenths % 10;
        return digits.length() >= width ? digits : " ".repeat(width - digits.length()) + digits;
    }
}
