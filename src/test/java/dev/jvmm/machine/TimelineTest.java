package dev.jvmm.machine;

import org.junit.jupiter.api.Test;

import java.util.List;

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
}
