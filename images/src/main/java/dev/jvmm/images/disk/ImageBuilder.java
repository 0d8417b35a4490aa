package dev.jvmm.images.disk;

import dev.jvmm.boot.ab.AbAttributes;
import dev.jvmm.boot.gpt.Gpt;
import dev.jvmm.boot.gpt.GptException;
import dev.jvmm.boot.gpt.GptPartition;
import dev.jvmm.boot.gpt.Guid;
import dev.jvmm.boot.verity.VerityTree;
import dev.jvmm.images.HostTools;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds Bottlerocket- and COS-layout disk images: GPT, A/B slots (A populated, B empty),
 * read-only erofs root under dm-verity, writable ext4 data, jvmm's kernel. Every GUID, salt
 * and timestamp comes from the layout and version, so the same inputs give the same bytes.
 */
public final class ImageBuilder {
    static final long MIB = 1 << 20;
    static final long ALIGN_SECTORS = MIB / Gpt.SECTOR;

    private final Layout layout;
    private final String version;
    private final ImageArch arch;
    private final PrintStream progress;

    /** An x86_64 image. */
    public ImageBuilder(Layout layout, String version, PrintStream progress) {
        this(layout, version, ImageArch.x86_64(), progress);
    }

    /** An image of {@code arch}: its kernel, busybox and agent. */
    public ImageBuilder(Layout layout, String version, ImageArch arch, PrintStream progress) {
        if (!version.matches("[A-Za-z0-9._+-]{1,40}")) {
            throw new IllegalArgumentException("version must be 1-40 characters of [A-Za-z0-9._+-]: " + version);
        }
        this.layout = layout;
        this.version = version;
        this.arch = arch;
        this.progress = progress;
    }

    String seed(String what) {
        return "jvmm-image/" + arch.seedPrefix() + layout.cliName() + "/" + version + "/" + what;
    }

    Guid guid(String what) {
        return Guid.derive(seed(what));
    }

    byte[] salt() {
        try {
            return MessageDigest.getInstance("SHA-256").digest(seed("verity-salt").getBytes(StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static long mibCeil(long bytes) {
        return Math.max(1, (bytes + MIB - 1) / MIB) * MIB;
    }

    /** A partition being planned: its label, type, content file (or null) and size. */
    private record Planned(int number, String name, Guid type, Path content, long bytes, long attributes) {}

    /**
     * The Bottlerocket kernel command line; GRUB (or jvmm as firmware) fills in $boot_uuid.
     * Bottlerocket's own line also has raid=noautodetect, which only a kernel with MD RAID
     * autodetection knows: jvmm's kernel has none and would log it as an unknown parameter.
     */
    static String bottlerocketGrubCfg(String version, VerityTree.Params v) {
        long sectors = v.dataBlocks() * 8;
        String table = "root,,,ro,0 " + sectors + " verity 1 PARTUUID=$boot_uuid/PARTNROFF=1 PARTUUID=$boot_uuid/PARTNROFF=2 "
                + "4096 4096 " + v.dataBlocks() + " 1 sha256 " + v.rootHex() + " " + v.saltHex()
                + " 2 restart_on_corruption ignore_zero_blocks";
        return """
                # jvmm container OS %1$s, Bottlerocket layout (after Bottlerocket's grub.cfg).
                set default="0"
                set timeout="0"
                probe --set boot_uuid --part-uuid $root
                set dm_verity_root="%2$s"
                menuentry "jvmm container OS %1$s" {
                   linux ($root)/vmlinuz console=ttyS0 root=/dev/dm-0 rootwait ro rootfstype=erofs init=/sbin/init panic=10 dm-mod.create="$dm_verity_root"
                }
                """.formatted(version, table);
    }

    /** The COS command line kept in KERN-x; jvmm fills in $kern_guid. ROOT is the next partition. */
    static String cosCmdline(VerityTree.Params v) {
        return "console=ttyS0 root=/dev/dm-0 rootwait ro rootfstype=erofs init=/sbin/init panic=10 "
                + "dm-mod.create=\"vroot,,,ro,0 " + (v.dataBlocks() * 8) + " verity 1 PARTUUID=$kern_guid/PARTNROFF=1 "
                + "PARTUUID=$kern_guid/PARTNROFF=1 4096 4096 " + v.dataBlocks() + " " + (v.dataBlocks() + 1) + " sha256 "
                + v.rootHex() + " " + v.saltHex() + " 2 restart_on_corruption ignore_zero_blocks\"";
    }

    private void step(String s) {
        progress.println("[jvmm] image: " + s);
    }

    /** Builds the image; with {@code lz4} the output is one LZ4 frame of it. */
    public void build(Path out, boolean lz4) throws IOException, InterruptedException, GptException {
        HostTools.ensure("building disk images", Tools.needs(arch));
        Path kernel = arch.kernel(layout);
        Path tmp = Files.createTempDirectory("jvmm-image");
        try {
            step("staging the root file system (" + layout.cliName() + " " + version + ", " + arch.name() + ")");
            Path rootDir = tmp.resolve("rootfs");
            Rootfs.stage(rootDir, layout, version, arch);
            Path erofs = tmp.resolve("root.erofs");
            Filesystems.erofs(rootDir, erofs, guid("rootfs").toString());
            long fsBytes = Files.size(erofs);
            List<Planned> plan = layout == Layout.BOTTLEROCKET ? planBottlerocket(tmp, kernel, erofs, fsBytes)
                    : planCos(tmp, kernel, erofs, fsBytes);
            Path raw = lz4 ? tmp.resolve("disk.img") : out.resolveSibling(out.getFileName() + ".partial");
            step("writing the disk image");
            assemble(plan, raw);
            if (lz4) {
                step("compressing to an LZ4 frame");
                Lz4.compress(raw, out);
            } else {
                Files.move(raw, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            step("done: " + out + " (" + Files.size(out) / MIB + " MiB)");
        } finally {
            HostTools.deleteTree(tmp);
        }
    }

    private List<Planned> planBottlerocket(Path tmp, Path kernel, Path erofs, long fsBytes)
            throws IOException, InterruptedException {
        long rootBytes = mibCeil(Math.max(2 * fsBytes, 4 * MIB)); // room for later versions
        Path root = tmp.resolve("root.part");
        Files.copy(erofs, root);
        try (FileChannel ch = FileChannel.open(root, StandardOpenOption.WRITE)) {
            ch.truncate(rootBytes);
            ch.write(java.nio.ByteBuffer.allocate(1), rootBytes - 1);
        }
        step("computing the dm-verity tree");
        Path hash = tmp.resolve("hash.part");
        VerityTree.Params v;
        try (FileChannel d = FileChannel.open(root, StandardOpenOption.READ);
             FileChannel h = FileChannel.open(hash, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                     StandardOpenOption.WRITE)) {
            v = VerityTree.format(d, 0, rootBytes / VerityTree.BLOCK, h, 0, salt(), guid("verity").bytes());
        }
        step("making the BOOT file system");
        Path bootDir = Files.createDirectories(tmp.resolve("boot/grub")).getParent();
        Files.copy(kernel, bootDir.resolve("vmlinuz"));
        Files.writeString(bootDir.resolve("grub/grub.cfg"), bottlerocketGrubCfg(version, v));
        long bootBytes = mibCeil(Files.size(kernel) + 2 * MIB);
        Path boot = tmp.resolve("boot.part");
        Filesystems.ext4(bootDir, boot, bootBytes, "BOOT", guid("boot-fs").toString(), false);
        Path priv = tmp.resolve("private.part");
        Filesystems.ext4(null, priv, 2 * MIB, "PRIVATE", guid("private-fs").toString(), true);
        Path data = tmp.resolve("data.part");
        Filesystems.ext4(null, data, 8 * MIB, layout.dataLabel(), guid("data-fs").toString(), true);
        long hashBytes = mibCeil(v.hashAreaBytes());
        long bootA = new AbAttributes(1, 0, true).applyTo(0);
        List<Planned> p = new ArrayList<>();
        int n = 1;
        p.add(new Planned(n++, "BIOS-BOOT", Layout.BIOS_BOOT, null, MIB, 0));
        for (String s : List.of("A", "B")) {
            boolean a = s.equals("A");
            p.add(new Planned(n++, "EFI-" + s, Layout.EFI_SYSTEM, null, MIB, 0));
            p.add(new Planned(n++, "BOTTLEROCKET-BOOT-" + s, Layout.BR_BOOT, a ? boot : null, bootBytes, a ? bootA : 0));
            p.add(new Planned(n++, "BOTTLEROCKET-ROOT-" + s, Layout.BR_ROOT, a ? root : null, rootBytes, 0));
            p.add(new Planned(n++, "BOTTLEROCKET-HASH-" + s, Layout.BR_HASH, a ? hash : null, hashBytes, 0));
            p.add(new Planned(n++, "BOTTLEROCKET-RESERVED-" + s, Layout.BR_RESERVED, null, MIB, 0));
        }
        p.add(new Planned(n++, "BOTTLEROCKET-PRIVATE", Layout.BR_PRIVATE, priv, 2 * MIB, 0));
        p.add(new Planned(n, "BOTTLEROCKET-DATA", Layout.BR_DATA, data, 8 * MIB, 0));
        return p;
    }

    private List<Planned> planCos(Path tmp, Path kernel, Path erofs, long fsBytes) throws IOException, InterruptedException {
        long dataBlocks = fsBytes / VerityTree.BLOCK;
        VerityTree.Params probe = new VerityTree.Params(dataBlocks, null, null, null);
        long rootBytes = mibCeil(Math.max(2 * (fsBytes + probe.hashAreaBytes()), 4 * MIB));
        Path root = tmp.resolve("root.part");
        Files.copy(erofs, root);
        step("computing the dm-verity tree (after the file system, as COS does)");
        VerityTree.Params v;
        try (FileChannel ch = FileChannel.open(root, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            v = VerityTree.format(ch, 0, dataBlocks, ch, fsBytes, salt(), guid("verity").bytes());
        }
        Path kern = tmp.resolve("kern.part");
        KernelPartition kp = new KernelPartition(version, cosCmdline(v), Files.size(kernel));
        Files.write(kern, kp.header());
        Files.write(kern, Files.readAllBytes(kernel), StandardOpenOption.APPEND);
        long kernBytes = mibCeil(Files.size(kern) + MIB);
        Path state = tmp.resolve("state.part");
        Filesystems.ext4(null, state, 8 * MIB, layout.dataLabel(), guid("state-fs").toString(), true);
        Path oem = tmp.resolve("oem.part");
        Filesystems.ext4(null, oem, 2 * MIB, "OEM", guid("oem-fs").toString(), true);
        long kernA = new AbAttributes(1, 0, true).applyTo(0);
        return List.of(
                new Planned(1, "STATE", Layout.LINUX_DATA, state, 8 * MIB, 0),
                new Planned(2, "KERN-A", Layout.CROS_KERNEL, kern, kernBytes, kernA),
                new Planned(3, "ROOT-A", Layout.CROS_ROOTFS, root, rootBytes, 0),
                new Planned(4, "KERN-B", Layout.CROS_KERNEL, null, kernBytes, 0),
                new Planned(5, "ROOT-B", Layout.CROS_ROOTFS, null, rootBytes, 0),
                new Planned(8, "OEM", Layout.LINUX_DATA, oem, 2 * MIB, 0),
                new Planned(12, "EFI-SYSTEM", Layout.EFI_SYSTEM, null, MIB, 0));
    }

    private void assemble(List<Planned> plan, Path raw) throws IOException, GptException {
        List<GptPartition> parts = new ArrayList<>();
        long lba = ALIGN_SECTORS;
        for (Planned p : plan) {
            long sectors = p.bytes() / Gpt.SECTOR;
            parts.add(new GptPartition(p.number(), p.type(), guid("part/" + p.name()), lba, lba + sectors - 1,
                    p.attributes(), p.name()));
            lba += sectors;
        }
        long total = lba + ALIGN_SECTORS; // room for the backup GPT, keeping the size a whole MiB
        Gpt gpt = Gpt.create(total, guid("disk"), parts);
        Files.deleteIfExists(raw);
        try (FileChannel out = FileChannel.open(raw, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            out.truncate(total * Gpt.SECTOR);
            out.write(java.nio.ByteBuffer.allocate(1), total * Gpt.SECTOR - 1);
            for (int i = 0; i < plan.size(); i++) {
                Path content = plan.get(i).content();
                if (content == null) {
                    continue;
                }
                if (Files.size(content) > plan.get(i).bytes()) {
                    throw new IOException(plan.get(i).name() + " content does not fit its partition");
                }
                try (FileChannel in = FileChannel.open(content, StandardOpenOption.READ)) {
                    long pos = 0;
                    long size = in.size();
                    while (pos < size) {
                        pos += in.transferTo(pos, size - pos, out.position(parts.get(i).offsetBytes() + pos));
                    }
                }
            }
            gpt.write(out);
        }
    }
}
