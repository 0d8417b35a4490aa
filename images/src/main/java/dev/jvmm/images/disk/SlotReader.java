package dev.jvmm.images.disk;

import dev.jvmm.boot.ab.AbAttributes;
import dev.jvmm.boot.ext4.Ext4;
import dev.jvmm.boot.ext4.Ext4Exception;
import dev.jvmm.boot.gpt.Gpt;
import dev.jvmm.boot.gpt.GptException;
import dev.jvmm.boot.gpt.GptPartition;
import dev.jvmm.boot.verity.VerityException;
import dev.jvmm.images.disk.DiskImage.SlotInfo;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;

/**
 * Reads what one slot of an image holds: its partitions, its boot record (BOOT-x's grub.cfg or
 * the KERN-x header) and the verity table from it. A slot that was never written is empty; a boot
 * record that is there but damaged or hostile makes the slot broken, with the reason, so that
 * verify refuses it instead of passing it as empty.
 */
final class SlotReader {
    private SlotReader() {}

    private static GptPartition need(Gpt gpt, String name) throws GptException {
        return gpt.byName(name).orElseThrow(() -> new GptException("partition " + name + " is missing"));
    }

    static SlotInfo bottlerocket(FileChannel ch, Gpt gpt, String s) throws GptException, IOException {
        GptPartition boot = need(gpt, "BOTTLEROCKET-BOOT-" + s);
        GptPartition root = need(gpt, "BOTTLEROCKET-ROOT-" + s);
        GptPartition hash = need(gpt, "BOTTLEROCKET-HASH-" + s);
        if (root.number() != boot.number() + 1 || hash.number() != boot.number() + 2) {
            throw new GptException("ROOT-" + s + " and HASH-" + s + " must follow BOOT-" + s + " (PARTNROFF=1 and 2)");
        }
        AbAttributes attrs = AbAttributes.of(boot.attributes());
        String cfg;
        try {
            Ext4 fs = Ext4.open(ch, boot.offsetBytes(), boot.sizeBytes());
            if (!fs.exists(GRUB_CFG)) {
                return SlotInfo.empty(s, boot, root, hash, attrs);
            }
            cfg = new String(fs.readFile(GRUB_CFG, Filesystems.MAX_TEXT_FILE), StandardCharsets.UTF_8);
        } catch (Ext4Exception e) {
            // Never written (no ext4 magic) is an empty slot; a file system that is there but damaged is not.
            if (!hasExt4Magic(ch, boot)) {
                return SlotInfo.empty(s, boot, root, hash, attrs);
            }
            return SlotInfo.broken(s, boot, root, hash, attrs, "unknown", null, boot.name() + " (ext4): "
                    + e.getMessage());
        }
        SlotTable.Boot b;
        try {
            b = SlotTable.fromGrub(cfg, gpt, boot);
        } catch (VerityException e) {
            return SlotInfo.broken(s, boot, root, hash, attrs, "unknown", null, e.getMessage());
        }
        try {
            return SlotInfo.of(s, boot, root, hash, attrs, b.version(), b.cmdline(),
                    SlotTable.table(b.cmdline(), gpt, root, hash));
        } catch (VerityException e) {
            return SlotInfo.broken(s, boot, root, hash, attrs, b.version(), b.cmdline(), e.getMessage());
        }
    }

    private static final String GRUB_CFG = "/grub/grub.cfg";

    private static boolean hasExt4Magic(FileChannel ch, GptPartition p) throws IOException {
        if (p.sizeBytes() < EXT4_MAGIC_AT + 2) {
            return false;
        }
        ByteBuffer b = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, p.offsetBytes() + EXT4_MAGIC_AT + b.position()) < 0) {
                return false;
            }
        }
        return (b.getShort(0) & 0xffff) == 0xef53;
    }

    /** s_magic: 1024 bytes in (the superblock), 0x38 into it. */
    private static final int EXT4_MAGIC_AT = 1024 + 0x38;

    static SlotInfo cos(FileChannel ch, Gpt gpt, String s) throws GptException, IOException {
        GptPartition kern = need(gpt, "KERN-" + s);
        GptPartition root = need(gpt, "ROOT-" + s);
        if (root.number() != kern.number() + 1) {
            throw new GptException("ROOT-" + s + " must follow KERN-" + s);
        }
        AbAttributes attrs = AbAttributes.of(kern.attributes());
        KernelPartition kp;
        try {
            kp = KernelPartition.read(ch, kern.offsetBytes(), kern.sizeBytes());
        } catch (KernHeaderException e) {
            return SlotInfo.broken(s, kern, root, null, attrs, "unknown", null, "KERN-" + s + " header is damaged: "
                    + e.getMessage());
        }
        if (kp == null) {
            return SlotInfo.empty(s, kern, root, null, attrs);
        }
        try {
            return SlotInfo.of(s, kern, root, null, attrs, kp.version(), kp.cmdline(),
                    SlotTable.table(SlotTable.kernCmdline(kp.cmdline(), kern), gpt, root, root));
        } catch (VerityException e) {
            return SlotInfo.broken(s, kern, root, null, attrs, kp.version(), kp.cmdline(), e.getMessage());
        }
    }
}
