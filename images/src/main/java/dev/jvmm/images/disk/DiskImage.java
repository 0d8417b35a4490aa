package dev.jvmm.images.disk;

import dev.jvmm.boot.ab.AbAttributes;
import dev.jvmm.boot.ab.AbException;
import dev.jvmm.boot.ab.Cgpt;
import dev.jvmm.boot.ab.Gptprio;
import dev.jvmm.boot.ab.Signpost;
import dev.jvmm.boot.ab.Slot;
import dev.jvmm.boot.gpt.Gpt;
import dev.jvmm.boot.gpt.GptException;
import dev.jvmm.boot.gpt.GptPartition;
import dev.jvmm.boot.gpt.GptRead;
import dev.jvmm.boot.verity.VerityException;
import dev.jvmm.boot.verity.VerityTable;
import dev.jvmm.boot.verity.VerityTree;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * An existing Bottlerocket- or COS-layout image: its GPT, its two slots and what each holds,
 * and the host-side A/B operations. Every operation checks everything before it writes, so a
 * refused or failed command leaves the image as it was; GPT changes write both copies. An image
 * with one usable GPT copy (an interrupted update) can be read but not changed until
 * {@link #repair} has made both copies valid again.
 */
public final class DiskImage {
    /**
     * What one slot holds. {@code boot} is BOOT-x or KERN-x; {@code hash} is HASH-x (absent for COS).
     * The verity fields come from {@code table}, the table the guest's kernel will use; {@code problem}
     * says why a populated slot's boot record yields no usable table (and verify refuses it).
     */
    public record SlotInfo(String name, GptPartition boot, GptPartition root, GptPartition hash, AbAttributes attrs,
                           boolean populated, String version, String rootHash, String salt, long dataBlocks,
                           long hashOffsetInPartition, String cmdline, VerityTable table, String problem) {
        static SlotInfo empty(String name, GptPartition boot, GptPartition root, GptPartition hash, AbAttributes attrs) {
            return new SlotInfo(name, boot, root, hash, attrs, false, null, null, null, 0, 0, null, null, null);
        }

        static SlotInfo of(String name, GptPartition boot, GptPartition root, GptPartition hash, AbAttributes attrs,
                           String version, String cmdline, VerityTable t) {
            return new SlotInfo(name, boot, root, hash, attrs, true, version, t.rootHex(), t.saltHex(), t.dataBlocks(),
                    (t.hashStartBlock() - 1) * VerityTree.BLOCK, cmdline, t, null);
        }

        static SlotInfo broken(String name, GptPartition boot, GptPartition root, GptPartition hash, AbAttributes attrs,
                               String version, String cmdline, String problem) {
            return new SlotInfo(name, boot, root, hash, attrs, true, version, null, null, 0, 0, cmdline, null, problem);
        }
    }

    /** How the image's file is opened: FileChannel::open, or in tests a channel that fails on cue. */
    @FunctionalInterface
    interface ChannelOpener {
        FileChannel open(Path file, OpenOption... options) throws IOException;
    }

    private final Path file;
    private final ChannelOpener opener;
    private final GptRead gptRead;
    private final Gpt gpt;
    private final Layout layout;
    private final List<SlotInfo> slots;

    private DiskImage(Path file, ChannelOpener opener, GptRead gptRead, Layout layout, List<SlotInfo> slots) {
        this.file = file;
        this.opener = opener;
        this.gptRead = gptRead;
        this.gpt = gptRead.gpt();
        this.layout = layout;
        this.slots = slots;
    }

    /**
     * Opens and inspects an image (read-only). It is read from its one usable GPT copy when the
     * other is damaged or stale ({@link #gptRead()} says which); no usable copy or a missing
     * BOOT/KERN partition is an error.
     */
    public static DiskImage open(Path file) throws IOException, GptException, InterruptedException {
        return open(file, FileChannel::open);
    }

    static DiskImage open(Path file, ChannelOpener opener) throws IOException, GptException, InterruptedException {
        try (FileChannel ch = opener.open(file, StandardOpenOption.READ)) {
            GptRead read = Gpt.readRecovering(ch);
            Gpt gpt = read.gpt();
            Layout layout = Layout.of(gpt).orElseThrow(() -> new GptException(Layout.NOT_A_LAYOUT));
            List<SlotInfo> slots = new ArrayList<>();
            for (String s : List.of("A", "B")) {
                slots.add(layout == Layout.BOTTLEROCKET ? SlotReader.bottlerocket(ch, gpt, s) : SlotReader.cos(ch, gpt, s));
            }
            return new DiskImage(file, opener, read, layout, slots);
        }
    }

    public Layout layout() {
        return layout;
    }

    public Gpt gpt() {
        return gpt;
    }

    /** Which GPT copies were valid when the image was opened, and which one {@link #gpt()} is. */
    public GptRead gptRead() {
        return gptRead;
    }

    /**
     * Rewrites a damaged or stale GPT copy from the usable (or newer) one; see {@link Gpt#repair}.
     * Works on any GPT disk, whatever its layout.
     */
    public static GptRead repair(Path file) throws IOException, GptException {
        return repair(file, FileChannel::open);
    }

    static GptRead repair(Path file, ChannelOpener opener) throws IOException, GptException {
        try (FileChannel ch = opener.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            return Gpt.repair(ch);
        }
    }

    public List<SlotInfo> slots() {
        return slots;
    }

    public SlotInfo slot(String name) {
        return slots.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }

    List<Slot> abSlots() {
        return slots.stream().map(s -> new Slot(s.name(), s.boot().number(), s.attrs())).toList();
    }

    /** The slot that boots next and the rule that chose it. */
    public record NextBoot(Optional<String> slot, String why) {}

    public NextBoot nextBoot() {
        List<Slot> ab = abSlots();
        if (layout == Layout.BOTTLEROCKET) {
            Optional<Slot> n = Gptprio.next(ab);
            return new NextBoot(n.map(Slot::name), n.map(s -> "gptprio: highest priority (" + s.attrs().priority()
                    + ") among slots with tries left or marked successful" + (s.attrs().triesLeft() > 0
                    ? "; booting it uses one of its " + s.attrs().triesLeft() + " tries" : ""))
                    .orElse("gptprio: no slot has priority with tries left or success"));
        }
        Optional<Slot> n = Cgpt.next(ab);
        return new NextBoot(n.map(Slot::name), n.map(s -> "cgpt: highest-priority kernel (" + s.attrs().priority()
                + ") that is successful or has tries left").orElse("cgpt: no bootable kernel"));
    }

    /** The running slot as an image at rest shows it (see {@link Signpost.State#atRest}). */
    public String activeSlot() {
        List<Slot> ab = abSlots();
        return Signpost.State.atRest(ab.get(0), ab.get(1)).activeName();
    }

    // ------------------------------------------------------------------ verification

    /**
     * Checks one populated slot's data and tree with the verity table its kernel will use (see
     * {@link VerityTree#verify(FileChannel, FileChannel, VerityTable)}); throws naming the slot
     * and the block or field.
     */
    public void verifySlot(SlotInfo s) throws IOException, VerityException {
        if (!s.populated()) {
            return;
        }
        if (s.problem() != null) {
            throw new VerityException("slot " + s.name() + ": " + s.problem());
        }
        GptPartition hashPart = s.hash() != null ? s.hash() : s.root();
        try (FileChannel ch = opener.open(file, StandardOpenOption.READ);
             // Read-only windows onto the partitions, so the checks cannot stray outside them.
             FileChannel data = new PartitionChannel(ch, s.root().offsetBytes(), s.root().sizeBytes());
             FileChannel hash = new PartitionChannel(ch, hashPart.offsetBytes(), hashPart.sizeBytes())) {
            VerityTree.verify(data, hash, s.table());
        } catch (VerityException e) {
            throw new VerityException("slot " + s.name() + ": " + e.getMessage());
        }
    }

    // ------------------------------------------------------------------ A/B operations

    /**
     * Refuses to change an image with only one usable GPT copy: writing a new table over a
     * half-written one is how disks are lost, so the user repairs first, knowingly.
     */
    private void requireBothGptCopies() throws GptException {
        if (gptRead.needsRepair()) {
            throw new GptException(gptRead.description() + "; run 'jvmm image repair " + file
                    + "' before changing this image");
        }
    }

    private void writeAttributes(List<Slot> updated) throws IOException, GptException {
        requireBothGptCopies();
        Gpt g = gpt;
        for (Slot s : updated) {
            GptPartition p = g.byNumber(s.partitionNumber()).orElseThrow();
            g = g.with(p.withAttributes(s.attrs().applyTo(p.attributes())));
        }
        try (FileChannel ch = opener.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            g.write(ch);
        }
    }

    private Signpost.State signpost(String active) {
        List<Slot> ab = abSlots();
        return active == null ? Signpost.State.atRest(ab.get(0), ab.get(1)) : new Signpost.State(ab.get(0), ab.get(1), active);
    }

    private static List<Slot> both(Signpost.State s) {
        return List.of(s.a(), s.b());
    }

    private String inactiveOf(String active) {
        return (active == null ? activeSlot() : active).equals("A") ? "B" : "A";
    }

    public void markSuccessful(String active) throws IOException, GptException {
        requireBothGptCopies();
        if (layout == Layout.BOTTLEROCKET) {
            writeAttributes(both(Signpost.markSuccessfulBoot(signpost(active))));
        } else {
            String a = active == null ? activeSlot() : active;
            writeAttributes(Cgpt.markSuccessful(abSlots(), slot(a).boot().number()));
        }
    }

    public void rollback(String active) throws IOException, GptException, AbException {
        requireBothGptCopies();
        if (layout == Layout.BOTTLEROCKET) {
            writeAttributes(both(Signpost.rollbackToInactive(signpost(active))));
        } else {
            writeAttributes(Cgpt.rollback(abSlots(), slot(inactiveOf(active)).boot().number()));
        }
    }

    public void cancelUpgrade(String active) throws IOException, GptException {
        requireBothGptCopies();
        if (layout == Layout.BOTTLEROCKET) {
            writeAttributes(both(Signpost.cancelUpgrade(signpost(active))));
        } else {
            writeAttributes(Cgpt.cancelUpgrade(abSlots(), slot(inactiveOf(active)).boot().number()));
        }
    }

    /**
     * Writes the inactive slot from {@code source}'s active slot, then follows the update
     * sequence: signpost's clear-inactive, write, mark-inactive-valid, upgrade-to-inactive
     * (Bottlerocket), or cgpt's priority 0, write, tries and prioritize (COS).
     */
    public void upgradeFrom(DiskImage source, String active, int tries) throws IOException, GptException, AbException,
            VerityException, InterruptedException {
        requireBothGptCopies();
        if (source.layout != layout) {
            throw new AbException("cannot upgrade a " + layout.cliName() + " image from a " + source.layout.cliName() + " image");
        }
        SlotInfo from = source.slot(source.activeSlot());
        if (!from.populated()) {
            throw new AbException("the new image's active slot " + from.name() + " holds no OS");
        }
        source.verifySlot(from);
        String act = active == null ? activeSlot() : active;
        SlotInfo to = slot(act.equals("A") ? "B" : "A");
        List<GptPartition[]> copies = new ArrayList<>();
        copies.add(new GptPartition[] {from.boot(), to.boot()});
        copies.add(new GptPartition[] {from.root(), to.root()});
        if (from.hash() != null) {
            copies.add(new GptPartition[] {from.hash(), to.hash()});
        }
        for (GptPartition[] c : copies) {
            if (c[0].sizeBytes() > c[1].sizeBytes()) {
                throw new AbException("the new image's " + c[0].name() + " (" + c[0].sizeBytes() + " bytes) does not fit "
                        + c[1].name() + " (" + c[1].sizeBytes() + " bytes)");
            }
        }
        // Everything is checked; from here on the image changes. First make the slot unbootable.
        List<Slot> ab = abSlots();
        if (layout == Layout.BOTTLEROCKET) {
            writeAttributes(both(Signpost.clearInactive(new Signpost.State(ab.get(0), ab.get(1), act))));
        } else {
            writeAttributes(Cgpt.cancelUpgrade(ab, to.boot().number()));
        }
        try (FileChannel src = source.opener.open(source.file, StandardOpenOption.READ);
             FileChannel dst = opener.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            for (GptPartition[] c : copies) {
                long n = 0;
                while (n < c[0].sizeBytes()) {
                    n += src.transferTo(c[0].offsetBytes() + n, c[0].sizeBytes() - n, dst.position(c[1].offsetBytes() + n));
                }
            }
            dst.force(false);
        }
        DiskImage written = open(file, opener);
        written.verifySlot(written.slot(to.name()));
        List<Slot> now = written.abSlots();
        if (layout == Layout.BOTTLEROCKET) {
            Signpost.State s = new Signpost.State(now.get(0), now.get(1), act);
            s = Signpost.markInactiveValid(s);
            s = Signpost.upgradeToInactive(s);
            written.writeAttributes(both(s));
        } else {
            written.writeAttributes(Cgpt.markForUpgrade(now, to.boot().number(), tries));
        }
    }
}
