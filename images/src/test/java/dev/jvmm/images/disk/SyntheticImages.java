package dev.jvmm.images.disk;

import dev.jvmm.boot.ab.AbAttributes;
import dev.jvmm.boot.gpt.Gpt;
import dev.jvmm.boot.gpt.GptException;
import dev.jvmm.boot.gpt.GptPartition;
import dev.jvmm.boot.gpt.Guid;
import dev.jvmm.boot.verity.VerityTree;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Small Bottlerocket- and COS-layout images for tests, with no kernel to build: the layouts'
 * partition names and types at a few KiB each, slot A holding a tiny dm-verity-checked root and
 * its boot record (a 256 KiB ext4 with grub/grub.cfg, or a KERN header), slot B empty. They
 * go through the same DiskImage code as the images ImageBuilder makes.
 */
final class SyntheticImages {
    static final int KIB = 1024;
    static final long DATA_BLOCKS = 16;
    static final long ROOT_DATA = DATA_BLOCKS * VerityTree.BLOCK;
    static final long TREE = new VerityTree.Params(DATA_BLOCKS, null, null, null).hashAreaBytes();

    private SyntheticImages() {}

    private record Part(String name, Guid type, long bytes) {}

    private static List<Part> parts(Layout layout) {
        List<Part> p = new ArrayList<>();
        if (layout == Layout.BOTTLEROCKET) {
            p.add(new Part("BIOS-BOOT", Layout.BIOS_BOOT, 4 * KIB));
            for (String s : List.of("A", "B")) {
                p.add(new Part("EFI-" + s, Layout.EFI_SYSTEM, 4 * KIB));
                p.add(new Part("BOTTLEROCKET-BOOT-" + s, Layout.BR_BOOT, 256 * KIB)); // mkfs.ext4's smallest at 4 KiB blocks
                p.add(new Part("BOTTLEROCKET-ROOT-" + s, Layout.BR_ROOT, ROOT_DATA));
                p.add(new Part("BOTTLEROCKET-HASH-" + s, Layout.BR_HASH, TREE));
                p.add(new Part("BOTTLEROCKET-RESERVED-" + s, Layout.BR_RESERVED, 4 * KIB));
            }
            p.add(new Part("BOTTLEROCKET-PRIVATE", Layout.BR_PRIVATE, 4 * KIB));
            p.add(new Part("BOTTLEROCKET-DATA", Layout.BR_DATA, 4 * KIB));
        } else {
            p.add(new Part("STATE", Layout.LINUX_DATA, 4 * KIB));
            for (String s : List.of("A", "B")) {
                p.add(new Part("KERN-" + s, Layout.CROS_KERNEL, 2 * KernelPartition.HEADER));
                p.add(new Part("ROOT-" + s, Layout.CROS_ROOTFS, ROOT_DATA + TREE));
            }
            p.add(new Part("OEM", Layout.LINUX_DATA, 4 * KIB));
            p.add(new Part("EFI-SYSTEM", Layout.EFI_SYSTEM, 4 * KIB));
        }
        return p;
    }

    private static int number(Layout layout, int index) {
        // COS numbers OEM 8 and EFI-SYSTEM 12, as ChromeOS does.
        return layout == Layout.COS && index >= 5 ? (index == 5 ? 8 : 12) : index + 1;
    }

    /** Builds {@code out}: slot A holds {@code version} and is active (priority 1, successful), slot B is empty. */
    static Path build(Layout layout, String version, Path out) throws IOException, GptException, InterruptedException {
        List<Part> plan = parts(layout);
        List<GptPartition> gp = new ArrayList<>();
        long lba = 64;
        for (int i = 0; i < plan.size(); i++) {
            Part p = plan.get(i);
            long sectors = p.bytes() / Gpt.SECTOR;
            boolean slotA = p.name().equals("BOTTLEROCKET-BOOT-A") || p.name().equals("KERN-A");
            long attrs = slotA ? new AbAttributes(1, 0, true).applyTo(0) : 0;
            gp.add(new GptPartition(number(layout, i), p.type(), Guid.derive(out + "/" + p.name()), lba, lba + sectors - 1,
                    attrs, p.name()));
            lba += sectors;
        }
        Gpt gpt = Gpt.create(lba + 64, Guid.derive(out + "/disk"), gp);
        Files.deleteIfExists(out);
        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ch.truncate(gpt.totalSectors() * Gpt.SECTOR);
            ch.write(ByteBuffer.allocate(1), gpt.totalSectors() * Gpt.SECTOR - 1);
            populateSlotA(ch, gpt, layout, version, out);
            gpt.write(ch);
        }
        return out;
    }

    /** Replaces slot {@code slot}'s KERN header of a COS image with {@code header} (4 KiB or less). */
    static void writeKernHeader(Path img, String slot, byte[] header) throws IOException, GptException {
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long at = part(Gpt.read(ch), "KERN-" + slot).offsetBytes();
            ch.write(ByteBuffer.wrap(new byte[KernelPartition.HEADER]), at);
            ch.write(ByteBuffer.wrap(header), at);
        }
    }

    /** Replaces slot {@code slot}'s BOOT file system of a Bottlerocket image with one holding {@code cfg}. */
    static void writeGrubCfg(Path img, String slot, String cfg) throws IOException, GptException, InterruptedException {
        writeBoot(img, slot, cfg, null);
    }

    /**
     * Replaces slot {@code slot}'s BOOT file system of a Bottlerocket image with one holding
     * {@code cfg} and, unless null, {@code vmlinuz}.
     */
    static void writeBoot(Path img, String slot, String cfg, byte[] vmlinuz) throws IOException, GptException,
            InterruptedException {
        Path dir = Files.createTempDirectory(img.getParent(), "boot");
        Files.createDirectories(dir.resolve("grub"));
        Files.writeString(dir.resolve("grub/grub.cfg"), cfg);
        if (vmlinuz != null) {
            Files.write(dir.resolve("vmlinuz"), vmlinuz);
        }
        Path fs = img.resolveSibling(img.getFileName() + ".boot");
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            GptPartition boot = part(Gpt.read(ch), "BOTTLEROCKET-BOOT-" + slot);
            Filesystems.ext4(dir, fs, boot.sizeBytes(), "BOOT", Guid.derive(img + "/boot").toString(), false);
            ch.write(ByteBuffer.wrap(Files.readAllBytes(fs)), boot.offsetBytes());
        } finally {
            Files.deleteIfExists(fs);
        }
    }

    /** Replaces slot {@code slot}'s KERN partition of a COS image: its header's command line and version kept, {@code kernel} after it. */
    static void writeKernel(Path img, String slot, byte[] kernel) throws IOException, GptException, KernHeaderException {
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            GptPartition kern = part(Gpt.read(ch), "KERN-" + slot);
            KernelPartition old = KernelPartition.read(ch, kern.offsetBytes(), kern.sizeBytes());
            if (kernel.length > kern.sizeBytes() - KernelPartition.HEADER) {
                throw new IllegalArgumentException("a " + kernel.length + "-byte kernel does not fit KERN-" + slot);
            }
            ch.write(ByteBuffer.wrap(new KernelPartition(old.version(), old.cmdline(), kernel.length).header()),
                    kern.offsetBytes());
            ch.write(ByteBuffer.wrap(kernel), kern.offsetBytes() + KernelPartition.HEADER);
        }
    }

    /**
     * Re-formats slot A's verity superblock and tree over only the first {@code blocks} data blocks,
     * where the slot's own table keeps covering all of them; returns the shorter tree's parameters.
     * {@code version} is the one the image was built with (it seeds the salt).
     */
    static VerityTree.Params reformatTree(Path img, Layout layout, String version, long blocks)
            throws IOException, GptException {
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            Gpt gpt = Gpt.read(ch);
            GptPartition root = part(gpt, layout == Layout.BOTTLEROCKET ? "BOTTLEROCKET-ROOT-A" : "ROOT-A");
            long hash = layout == Layout.BOTTLEROCKET ? part(gpt, "BOTTLEROCKET-HASH-A").offsetBytes()
                    : root.offsetBytes() + ROOT_DATA;
            ch.write(ByteBuffer.allocate((int) TREE), hash);
            return VerityTree.format(ch, root.offsetBytes(), blocks, ch, hash, Guid.derive(version + "/salt").bytes(),
                    Guid.derive(version + "/verity").bytes());
        }
    }

    private static GptPartition part(Gpt gpt, String name) {
        return gpt.byName(name).orElseThrow();
    }

    private static void populateSlotA(FileChannel ch, Gpt gpt, Layout layout, String version, Path out)
            throws IOException, InterruptedException {
        byte[] data = new byte[(int) ROOT_DATA];
        new Random(version.hashCode()).nextBytes(data);
        byte[] salt = Guid.derive(version + "/salt").bytes();
        byte[] uuid = Guid.derive(version + "/verity").bytes();
        if (layout == Layout.BOTTLEROCKET) {
            long root = part(gpt, "BOTTLEROCKET-ROOT-A").offsetBytes();
            ch.write(ByteBuffer.wrap(data), root);
            VerityTree.Params v = VerityTree.format(ch, root, DATA_BLOCKS, ch, part(gpt, "BOTTLEROCKET-HASH-A").offsetBytes(),
                    salt, uuid);
            Path dir = Files.createTempDirectory(out.getParent(), "boot");
            Files.createDirectories(dir.resolve("grub"));
            Files.writeString(dir.resolve("grub/grub.cfg"), ImageBuilder.bottlerocketGrubCfg(version, v));
            Path fs = out.resolveSibling(out.getFileName() + ".boot");
            GptPartition boot = part(gpt, "BOTTLEROCKET-BOOT-A");
            Filesystems.ext4(dir, fs, boot.sizeBytes(), "BOOT", Guid.derive(version + "/boot").toString(), false);
            ch.write(ByteBuffer.wrap(Files.readAllBytes(fs)), boot.offsetBytes());
            Files.delete(fs);
        } else {
            long root = part(gpt, "ROOT-A").offsetBytes();
            ch.write(ByteBuffer.wrap(data), root);
            VerityTree.Params v = VerityTree.format(ch, root, DATA_BLOCKS, ch, root + ROOT_DATA, salt, uuid);
            KernelPartition kp = new KernelPartition(version, ImageBuilder.cosCmdline(v), KernelPartition.HEADER);
            long kern = part(gpt, "KERN-A").offsetBytes();
            ch.write(ByteBuffer.wrap(kp.header()), kern);
            ch.write(ByteBuffer.wrap(new byte[KernelPartition.HEADER]), kern + KernelPartition.HEADER);
        }
    }
}
