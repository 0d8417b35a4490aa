package dev.jvmm.boot.ab;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AbSchemesTest {
    /** "p/t/s" → attributes. */
    static AbAttributes ab(String pts) {
        String[] f = pts.split("/");
        return new AbAttributes(Integer.parseInt(f[0]), Integer.parseInt(f[1]), f[2].equals("1"));
    }

    static String pts(AbAttributes a) {
        return a.priority() + "/" + a.triesLeft() + "/" + (a.successful() ? 1 : 0);
    }

    static Signpost.State state(String a, String b) {
        return new Signpost.State(new Slot("A", 3, ab(a)), new Slot("B", 9, ab(b)), "A");
    }

    @Test
    void attributeBitsSitWhereGptprioAndCgptExpectThem() {
        AbAttributes a = new AbAttributes(2, 5, true);
        long bits = a.applyTo(0x1L); // bit 0 (required partition) is kept
        assertEquals(0x0152_0000_0000_0001L, bits);
        assertEquals(a, AbAttributes.of(bits));
    }

    @ParameterizedTest(name = "gptprio A={0} B={1} -> {2}, after boot A={3} B={4}")
    @CsvSource({
            "1/0/1, 0/0/0, A, 1/0/1, 0/0/0",   // fresh image
            "1/0/1, 2/1/0, B, 1/0/1, 2/0/0",   // upgrade pending: B boots and spends its try
            "1/0/1, 2/0/0, A, 1/0/1, 2/0/0",   // B out of tries, not successful: back to A
            "2/0/1, 2/3/0, A, 2/0/1, 2/3/0",   // tie: the earlier entry wins
            "0/5/1, 0/5/1, -, 0/5/1, 0/5/1",   // priority 0 never boots
            "3/0/0, 1/0/1, B, 3/0/0, 1/0/1",   // no tries and not successful: not eligible
            "1/2/0, 1/0/0, A, 1/1/0, 1/0/0",
    })
    void gptprio(String a, String b, String winner, String afterA, String afterB) throws Exception {
        List<Slot> slots = List.of(new Slot("A", 3, ab(a)), new Slot("B", 9, ab(b)));
        assertEquals(winner, Gptprio.next(slots).map(Slot::name).orElse("-"));
        if (winner.equals("-")) {
            assertThrows(AbException.class, () -> Gptprio.boot(slots));
            return;
        }
        List<Slot> after = Gptprio.boot(slots);
        assertEquals(afterA, pts(after.get(0).attrs()));
        assertEquals(afterB, pts(after.get(1).attrs()));
    }

    @Test
    void signpostUpdateSequence() throws Exception {
        Signpost.State s = Signpost.State.atRest(new Slot("A", 3, ab("1/0/1")), new Slot("B", 9, ab("0/0/0")));
        assertEquals("A", s.active().name());
        s = Signpost.clearInactive(s);
        s = Signpost.markInactiveValid(s);
        assertEquals("0/1/0", pts(s.b().attrs()));
        s = Signpost.upgradeToInactive(s);
        assertEquals("1/0/1", pts(s.a().attrs()));
        assertEquals("2/1/0", pts(s.b().attrs()));
        assertEquals("B", s.next().orElseThrow().name());
        assertEquals("A", Signpost.State.atRest(s.a(), s.b()).active().name(), "at rest, A is still the running slot");
        // B boots (GRUB spends its try); running B, signpost marks it successful
        List<Slot> booted = Gptprio.boot(List.of(s.a(), s.b()));
        s = new Signpost.State(booted.get(0), booted.get(1), "B");
        assertEquals("2/0/0", pts(s.b().attrs()));
        s = Signpost.markSuccessfulBoot(s);
        assertEquals("2/0/1", pts(s.b().attrs()));
        assertEquals("B", s.active().name());
    }

    @ParameterizedTest(name = "signpost {0} on A={1} B={2} -> A={3} B={4}")
    @CsvSource({
            "clear-inactive,        1/0/1, 2/5/1, 1/0/1, 0/0/0",
            "mark-inactive-valid,   1/0/1, 0/0/0, 1/0/1, 0/1/0",
            "upgrade-to-inactive,   1/0/1, 0/1/0, 1/0/1, 2/1/0",
            "cancel-upgrade,        1/0/1, 2/1/0, 2/0/1, 0/1/0",
            "rollback-to-inactive,  1/0/1, 2/0/1, 1/0/1, 2/0/1",
            "mark-successful-boot,  1/0/0, 0/0/0, 1/0/1, 0/0/0",
    })
    void signpostCommands(String cmd, String a, String b, String wantA, String wantB) throws Exception {
        Signpost.State s = state(a, b);
        Signpost.State t = switch (cmd) {
            case "clear-inactive" -> Signpost.clearInactive(s);
            case "mark-inactive-valid" -> Signpost.markInactiveValid(s);
            case "upgrade-to-inactive" -> Signpost.upgradeToInactive(s);
            case "cancel-upgrade" -> Signpost.cancelUpgrade(s);
            case "rollback-to-inactive" -> Signpost.rollbackToInactive(s);
            case "mark-successful-boot" -> Signpost.markSuccessfulBoot(s);
            default -> throw new IllegalArgumentException(cmd);
        };
        assertEquals(wantA, pts(t.a().attrs()), "A");
        assertEquals(wantB, pts(t.b().attrs()), "B");
    }

    @Test
    void signpostRefusals() {
        AbException up = assertThrows(AbException.class, () -> Signpost.upgradeToInactive(state("1/0/1", "0/0/0")));
        assertTrue(up.getMessage().contains("not a valid upgrade target"), up.getMessage());
        assertThrows(AbException.class, () -> Signpost.upgradeToInactive(state("1/0/1", "0/1/1")), "successful inactive");
        assertThrows(AbException.class, () -> Signpost.upgradeToInactive(state("1/0/1", "2/1/0")), "priority set");
        AbException rb = assertThrows(AbException.class, () -> Signpost.rollbackToInactive(state("1/0/1", "0/0/0")));
        assertTrue(rb.getMessage().contains("would not boot"), rb.getMessage());
        assertTrue(Signpost.willBoot(ab("0/0/1")), "successful alone will boot");
        assertTrue(!Signpost.willBoot(ab("0/3/0")) && !Signpost.willBoot(ab("2/0/0")));
    }

    static List<Slot> kernels(String a, String b) {
        return List.of(new Slot("A", 2, ab(a)), new Slot("B", 4, ab(b)));
    }

    @ParameterizedTest(name = "cgpt A={0} B={1} -> {2}, after try A={3} B={4}")
    @CsvSource({
            "1/0/1, 0/0/0, A, 1/0/1, 0/0/0",
            "1/0/1, 2/6/0, B, 1/0/1, 2/5/0",
            "1/0/1, 2/1/0, B, 1/0/1, 0/0/0",   // last try: marked bad at once
            "2/0/0, 1/0/1, B, 2/0/0, 1/0/1",   // A has neither tries nor success
            "2/3/0, 2/0/1, A, 2/2/0, 2/0/1",   // tie: lower entry number
            "0/6/1, 0/0/1, -, 0/6/1, 0/0/1",
    })
    void cgptSelection(String a, String b, String winner, String afterA, String afterB) {
        List<Slot> k = kernels(a, b);
        var w = Cgpt.next(k);
        assertEquals(winner, w.map(Slot::name).orElse("-"));
        if (w.isPresent()) {
            List<Slot> after = Cgpt.afterTry(k, w.get());
            assertEquals(afterA, pts(after.get(0).attrs()));
            assertEquals(afterB, pts(after.get(1).attrs()));
        }
    }

    @Test
    void cgptPrioritizeCompressesLikeCgpt() {
        List<Slot> k = List.of(new Slot("A", 2, ab("1/0/1")), new Slot("B", 4, ab("0/0/0")), new Slot("C", 6, ab("7/0/1")));
        List<Slot> p = Cgpt.prioritize(k, 4, 0);
        assertEquals("3/0/0", pts(p.get(1).attrs()), "the chosen one goes on top, even from priority 0");
        assertEquals("2/0/1", pts(p.get(2).attrs()), "C keeps its rank, one below");
        assertEquals("1/0/1", pts(p.get(0).attrs()));
        List<Slot> top = Cgpt.prioritize(k, 2, 15);
        assertEquals(15, top.get(0).attrs().priority());
        assertEquals(14, top.get(2).attrs().priority());
        assertEquals(0, top.get(1).attrs().priority(), "priority 0 stays 0");
    }

    @Test
    void cgptUpdateFlow() throws Exception {
        List<Slot> k = kernels("1/0/1", "0/0/0");
        k = Cgpt.markForUpgrade(k, 4, Cgpt.DEFAULT_TRIES);
        assertEquals("2/6/0", pts(k.get(1).attrs()));
        assertEquals("1/0/1", pts(k.get(0).attrs()));
        k = Cgpt.afterTry(k, Cgpt.next(k).orElseThrow());
        k = Cgpt.markSuccessful(k, 4);
        assertEquals("2/0/1", pts(k.get(1).attrs()));
        k = Cgpt.rollback(k, 2);
        assertEquals(2, k.get(0).attrs().priority());
        assertEquals(1, k.get(1).attrs().priority());
        List<Slot> cancelled = Cgpt.cancelUpgrade(Cgpt.markForUpgrade(kernels("1/0/1", "0/0/0"), 4, 6), 4);
        assertEquals("A", Cgpt.next(cancelled).orElseThrow().name());
        assertThrows(AbException.class, () -> Cgpt.rollback(kernels("1/0/1", "0/0/0"), 4));
    }
}
