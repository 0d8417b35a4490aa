package dev.jvmm.images.disk;

import dev.jvmm.boot.gpt.Gpt;
import dev.jvmm.boot.gpt.GptException;
import dev.jvmm.boot.gpt.GptPartition;
import dev.jvmm.boot.gpt.GptRead;
import dev.jvmm.boot.verity.VerityException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Crash consistency of upgrade, rollback, mark-successful and cancel-upgrade on both layouts:
 * each command runs once to count its writes, then again cut at every write, before it and
 * halfway through it. Every cut must leave an image that is (a) whole, in the old, new or (for
 * upgrade) cleared-slot state, or (b) readable from one GPT copy and made whole by repair, never
 * (c) without a valid GPT; and the slot that boots next must hold an OS that passes dm-verity.
 */
class DiskImageCrashTest {
    @TempDir
    static Path tmp;

    static final Map<Layout, Path> V1 = new EnumMap<>(Layout.class);
    static final Map<Layout, Path> V2 = new EnumMap<>(Layout.class);
    static final Map<Layout, Path> V3 = new EnumMap<>(Layout.class);
    static final Map<Layout, Path> UPGRADED = new EnumMap<>(Layout.class);

    /** A command, run on an image opened through the crash's channels. */
    @FunctionalInterface
    interface Op {
        void apply(DiskImage image) throws Exception;
    }

    /** One command on one layout, from {@code start}; {@code nextBoot} is the slot it leaves booting next. */
    record Scenario(String command, Layout layout, Path start, Op op, String nextBoot) {
        @Override
        public String toString() {
            return command + " (" + layout.cliName() + ")";
        }
    }

    @BeforeAll
    static void images() throws Exception {
        for (Layout l : Layout.values()) {
            V1.put(l, SyntheticImages.build(l, "1.0.0", tmp.resolve(l.cliName() + "-1.img")));
            V2.put(l, SyntheticImages.build(l, "2.0.0", tmp.resolve(l.cliName() + "-2.img")));
            V3.put(l, SyntheticImages.build(l, "3.0.0", tmp.resolve(l.cliName() + "-3.img")));
            Path up = Files.copy(V1.get(l), tmp.resolve(l.cliName() + "-upgraded.img"));
            DiskImage.open(up).upgradeFrom(DiskImage.open(V2.get(l)), null, 6);
            UPGRADED.put(l, up);
        }
    }

    static List<Scenario> scenarios() {
        List<Scenario> s = new ArrayList<>();
        for (Layout l : Layout.values()) {
            s.add(new Scenario("upgrade", l, V1.get(l), img -> img.upgradeFrom(DiskImage.open(V2.get(l)), null, 6), "B"));
            // Over a pending upgrade (2.0.0 in B), the first GPT write, clearing B, changes the table too.
            s.add(new Scenario("upgrade again", l, UPGRADED.get(l), img -> img.upgradeFrom(DiskImage.open(V3.get(l)), "A", 6),
                    "B"));
            s.add(new Scenario("rollback", l, UPGRADED.get(l), img -> img.rollback("B"), "A"));
            s.add(new Scenario("mark-successful", l, UPGRADED.get(l), img -> img.markSuccessful("B"), "B"));
            s.add(new Scenario("cancel-upgrade", l, UPGRADED.get(l), img -> img.cancelUpgrade(null), "A"));
        }
        return s;
    }

    static List<GptPartition> table(Path img) throws Exception {
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ)) {
            return Gpt.read(ch).partitions();
        }
    }

    static GptRead recover(Path img) throws Exception {
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ)) {
            return Gpt.readRecovering(ch);
        }
    }

    static Path copy(Path from, String name) throws IOException {
        return Files.copy(from, tmp.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }

    /** The slot that boots next holds an OS and it passes dm-verity: no cut may leave a half-written slot bootable. */
    static void assertBootsAVerifiedSlot(Path img, String when) throws Exception {
        DiskImage d = DiskImage.open(img);
        String next = d.nextBoot().slot().orElseThrow(() -> new AssertionError(when + ": no slot boots"));
        DiskImage.SlotInfo s = d.slot(next);
        assertTrue(s.populated(), when + ": slot " + next + " boots next but is empty");
        try {
            d.verifySlot(s);
        } catch (VerityException e) {
            throw new AssertionError(when + ": slot " + next + " boots next but fails dm-verity: " + e.getMessage(), e);
        }
    }

    /** Runs {@code op} on a copy of {@code start} with {@code crash}'s channels; the crash must stop it. */
    static Path crashed(Scenario sc, FaultyChannel.Crash crash) throws Exception {
        Path img = copy(sc.start(), "cut.img");
        IOException e = assertThrows(IOException.class, () -> sc.op().apply(DiskImage.open(img, crash.opener())),
                sc + " " + crash);
        assertTrue(crash.crashed && e.getMessage().startsWith("simulated crash"), sc + " " + crash + ": " + e);
        return img;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    void everyCutLeavesAUsableImage(Scenario sc) throws Exception {
        Path dry = copy(sc.start(), "dry.img");
        FaultyChannel.Crash count = FaultyChannel.Crash.never();
        sc.op().apply(DiskImage.open(dry, count.opener()));
        int writes = count.writes;
        List<GptPartition> before = table(sc.start());
        List<GptPartition> after = table(dry);
        assertEquals(sc.nextBoot(), DiskImage.open(dry).nextBoot().slot().orElseThrow(), sc + " done");
        assertTrue(sc.command().startsWith("upgrade") ? writes > 10 : writes == 5,
                sc + ": " + writes + " writes (5 per GPT write; upgrade copies the slot through the channel too)");

        Set<List<GptPartition>> seen = new HashSet<>();
        Map<GptRead.State, Integer> states = new EnumMap<>(GptRead.State.class);
        for (int at = 0; at < writes; at++) {
            for (boolean mid : new boolean[] {false, true}) {
                FaultyChannel.Crash crash = new FaultyChannel.Crash(at, mid);
                String when = sc + " cut " + crash;
                Path img = crashed(sc, crash);
                GptRead r;
                try {
                    r = recover(img);
                } catch (GptException e) {
                    throw new AssertionError(when + ": the disk is lost: " + e.getMessage(), e);
                }
                seen.add(r.gpt().partitions());
                if (states.merge(r.state(), 1, Integer::sum) == 1 && r.needsRepair()) {
                    assertRepairIsCrashSafe(img, r, when);
                }
                if (r.needsRepair()) {
                    assertEquals(r.repairAction(), DiskImage.repair(img).repairAction(), when);
                    assertEquals(r.gpt().partitions(), table(img), when + ": repair keeps the table it read");
                }
                assertBootsAVerifiedSlot(img, when);
            }
        }
        // Only whole tables appear: the old, the new and, for upgrade, the one with the target slot cleared.
        assertTrue(seen.contains(before) && seen.contains(after), sc + ": old and new states");
        int tables = seen.size();
        assertTrue(tables >= 2 && tables <= (sc.command().startsWith("upgrade") ? 3 : 2), sc + ": " + tables + " distinct tables");
        System.out.printf("%-32s %3d writes, %3d cuts, %d tables: %s%n", sc, writes, 2 * writes, tables, states);
        assertTrue(states.containsKey(GptRead.State.BOTH_VALID) && states.size() == GptRead.State.values().length,
                sc + ": the cuts reach every state, " + states);
    }

    /** Repair itself cut at each of its writes still leaves a usable copy, and a second repair finishes. */
    static void assertRepairIsCrashSafe(Path damaged, GptRead found, String when) throws Exception {
        FaultyChannel.Crash count = FaultyChannel.Crash.never();
        Path dry = copy(damaged, "repair-dry.img");
        DiskImage.repair(dry, count.opener());
        for (int at = 0; at < count.writes; at++) {
            for (boolean mid : new boolean[] {false, true}) {
                FaultyChannel.Crash crash = new FaultyChannel.Crash(at, mid);
                Path img = copy(damaged, "repair-cut.img");
                assertThrows(IOException.class, () -> DiskImage.repair(img, crash.opener()));
                assertEquals(found.gpt().partitions(), recover(img).gpt().partitions(), when + ", repair cut " + crash);
                DiskImage.repair(img);
                assertEquals(found.gpt().partitions(), table(img), when + ", repair cut " + crash + ", repaired");
            }
        }
        if (Files.isExecutable(Path.of("/usr/sbin/sgdisk"))) {
            Process p = new ProcessBuilder("sgdisk", "-v", dry.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            p.waitFor();
            assertTrue(out.contains("No problems found") && !out.contains("Warning"), when + ", repaired: " + out);
        }
    }

    @Test
    void commandsRefuseAnImageThatNeedsRepairAndLeaveItUntouched() throws Exception {
        for (Scenario sc : scenarios()) {
            // Cut before the last write, the primary header: its new entries are in, its old header's CRC no longer fits.
            FaultyChannel.Crash count = FaultyChannel.Crash.never();
            sc.op().apply(DiskImage.open(copy(sc.start(), "refuse.img"), count.opener()));
            Path img = crashed(sc, new FaultyChannel.Crash(count.writes - 1, false));
            assertEquals(GptRead.State.BACKUP_ONLY, DiskImage.open(img).gptRead().state(), sc.toString());
            byte[] bytes = Files.readAllBytes(img);
            for (Scenario other : scenarios()) {
                if (other.layout() == sc.layout()) {
                    Exception e = assertThrows(Exception.class, () -> other.op().apply(DiskImage.open(img)));
                    assertTrue(e.getMessage().startsWith("primary GPT partition entries CRC mismatch (damaged entries);"
                            + " using the backup copy; run 'jvmm image repair "), sc + ", then " + other + ": " + e.getMessage());
                    assertArrayEquals(bytes, Files.readAllBytes(img), sc + ", then " + other + " wrote nothing");
                }
            }
        }
    }
}
