package dev.jvmm.machine;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A printed timeline reads back as the marks it printed (to its 0.1 ms), with the memory line. */
class TimelineTextTest {
    @Test
    void printedTimelineReadsBack() {
        long origin = System.nanoTime() - 5_000_000_000L;
        Timeline tl = new Timeline(origin, origin + 41_300_000L);
        tl.mark("KVM VM created");
        tl.forPass(2).mark("guest ready (boot timer)");
        tl.mark("VM stopped: exit register (status 7)");
        tl.guestResident(3L << 20);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        out.println("[    0.123456] some console line");
        tl.print(out);
        out.println("jvmm: something printed after");
        TimelineText.Parsed p = TimelineText.parse(bytes.toString(StandardCharsets.UTF_8));

        assertEquals(tl.events().size(), p.events().size());
        for (int i = 0; i < p.events().size(); i++) {
            assertEquals(tl.events().get(i).name(), p.events().get(i).name());
            assertEquals(tl.events().get(i).nanosSinceStart() / 1e6, p.events().get(i).nanosSinceStart() / 1e6, 0.051);
        }
        assertEquals(41.3, p.millisOf(Timeline.JVM_MAIN), 0.051);
        assertTrue(p.millisOf(2, "guest ready") >= 5000);
        assertTrue(p.millisOf(1, "KVM VM created") >= 5000, "a kernel boot's marks have no pass prefix");
        assertEquals(3072, p.guestResidentKib());
        assertTrue(p.peakRssKib() > 0, "the peak RSS of this JVM");
    }

    @Test
    void noTimelineIsNull() {
        assertNull(TimelineText.parse("jvmm: /dev/kvm does not exist\n"));
    }

    @Test
    void unknownResidentIsMinusOne() {
        String text = Timeline.HEADER + "\n       0.0  (+    0.0)  jvmm process started\n"
                + Timeline.MEMORY + " peak RSS 51234 KiB, guest RAM resident unknown\n";
        TimelineText.Parsed p = TimelineText.parse(text);
        assertEquals(1, p.events().size());
        assertEquals(51234, p.peakRssKib());
        assertEquals(-1, p.guestResidentKib());
    }
}
