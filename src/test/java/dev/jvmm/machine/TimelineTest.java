package dev.jvmm.machine;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Marks are raw clock readings; the origin is applied when the timeline is read, however late. */
class TimelineTest {
    @Test
    void marksTakenBeforeTheOriginIsKnownComeOutRelativeToIt() throws InterruptedException {
        long origin = System.nanoTime() - 50_000_000L;
        Timeline tl = new Timeline(origin, origin + 10_000_000L);
        tl.mark("a");
        Thread.sleep(5);
        tl.forPass(2).mark("b");
        List<Timeline.Event> events = tl.events();
        assertEquals(List.of("jvmm process started", Timeline.JVM_MAIN, "a", "boot 2: b"),
                events.stream().map(Timeline.Event::name).toList());
        assertEquals(0, events.get(0).nanosSinceStart());
        assertEquals(10_000_000L, events.get(1).nanosSinceStart());
        assertTrue(events.get(2).nanosSinceStart() >= 50_000_000L, events.toString());
        assertTrue(events.get(3).nanosSinceStart() >= events.get(2).nanosSinceStart() + 5_000_000L, events.toString());
        assertEquals(events, tl.events(), "read twice, the same");
    }

    @Test
    void theDefaultOriginIsFoundOnFirstReadAndKept() {
        Timeline tl = new Timeline();
        tl.mark("x");
        List<Timeline.Event> first = tl.events();
        assertEquals(0, first.get(0).nanosSinceStart());
        Timeline.Event x = first.get(first.size() - 1);
        assertEquals("x", x.name());
        assertTrue(x.nanosSinceStart() >= 0);
        tl.mark("y");
        List<Timeline.Event> second = tl.events();
        assertEquals(x, second.get(second.size() - 2), "the origin does not move once found");
    }

    @Test
    void millisecondsAreWrittenAsPrintfWouldWriteThem() {
        long[] samples = {0, 1, 49_999, 50_000, 50_001, 149_999, 150_000, 1_234_567, 99_950_000, 99_949_999,
                123_456_789_012L, 9_999_999_999L, -40_000, -1_260_000, 5_000_000_000_000L};
        for (long n : samples) {
            assertEquals(String.format("%8.1f", n / 1e6), Timeline.millis(n, 8), n + " ns");
            assertEquals(String.format("%7.1f", n / 1e6), Timeline.millis(n, 7), n + " ns");
        }
        Random random = new Random(7);
        for (int i = 0; i < 20_000; i++) {
            long n = random.nextInt(2_000_000_000) * (i % 2 == 0 ? 1L : 37L);
            assertEquals(String.format("%8.1f", n / 1e6), Timeline.millis(n, 8), n + " ns");
        }
    }

    @Test
    void thePrintedTimelineIsReadBackAsItWasMarked() {
        long origin = System.nanoTime() - 1_000_000_000L;
        Timeline tl = new Timeline(origin, origin + 42_350_000L);
        tl.mark("first KVM_RUN");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        tl.print(new PrintStream(bytes, true));
        String text = bytes.toString();
        assertTrue(text.contains("      42.4  (+   42.4)  " + Timeline.JVM_MAIN + "\r\n"), text);
        assertTrue(text.contains("jvmm memory: peak RSS "), text);
    }
}
