package dev.jvmm.images.disk;

import dev.jvmm.boot.gpt.Gpt;
import dev.jvmm.boot.gpt.GptPartition;
import dev.jvmm.boot.gpt.Guid;
import dev.jvmm.boot.grub.GrubConfig;
import dev.jvmm.boot.grub.GrubEntry;
import dev.jvmm.boot.grub.GrubException;
import dev.jvmm.boot.verity.VerityException;
import dev.jvmm.boot.verity.VerityTable;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A slot's kernel command line and verity table as the guest will get them: grub.cfg run by
 * jvmm's GRUB interpreter for its default entry (Bottlerocket), or the KERN header with
 * {@code $kern_guid} filled in (COS), and the table's devices resolved to partitions. `verify`
 * checks what the kernel will check, so this is the only place a slot's table comes from.
 */
public final class SlotTable {
    private static final Pattern TITLE_VERSION = Pattern.compile("jvmm container OS (\\S+)");
    private static final Pattern GRUB_DEVICE = Pattern.compile("hd0,gpt(\\d{1,3})");
    private static final Pattern PARTUUID = Pattern.compile("PARTUUID=([0-9a-fA-F-]{36})(?:/PARTNROFF=(\\d{1,3}))?");

    private SlotTable() {}

    /** The default entry's version (from its title) and the command line GRUB hands the kernel. */
    record Boot(String version, String cmdline) {}

    static Boot fromGrub(String cfg, Gpt gpt, GptPartition boot) throws VerityException {
        try {
            GrubEntry e = grubEntry(cfg, gpt, boot);
            return new Boot(version(e), e.bootImageCmdline());
        } catch (GrubException e) {
            throw new VerityException("grub.cfg: " + e.getMessage());
        }
    }

    /**
     * grub.cfg's default entry as GRUB runs it from BOOT-x: {@code $root} is that partition
     * ("hd0,gptN") and {@code probe --part-uuid} answers from the GPT.
     */
    public static GrubEntry grubEntry(String cfg, Gpt gpt, GptPartition boot) throws GrubException {
        return GrubConfig.defaultEntry(cfg, Map.of("root", grubDevice(boot)), d -> partUuid(gpt, d));
    }

    /** GRUB's name for a partition of the boot disk. */
    public static String grubDevice(GptPartition p) {
        return "hd0,gpt" + p.number();
    }

    /** The OS version in a jvmm image's menu entry title ("jvmm container OS 2.0.0"), or "unknown". */
    public static String version(GrubEntry e) {
        Matcher v = TITLE_VERSION.matcher(e.title() == null ? "" : e.title());
        return v.find() ? v.group(1) : "unknown";
    }

    /** The KERN header's command line as jvmm's firmware hands it to the kernel. */
    public static String kernCmdline(String cmdline, GptPartition kern) {
        return cmdline.replace("$kern_guid", kern.unique().toString().toLowerCase(Locale.ROOT));
    }

    /** GRUB's {@code probe --part-uuid} for "hd0,gptN": that partition's unique GUID, lower case. */
    private static String partUuid(Gpt gpt, String device) {
        Matcher m = GRUB_DEVICE.matcher(device == null ? "" : device);
        if (!m.matches()) {
            return "";
        }
        return gpt.byNumber(Integer.parseInt(m.group(1))).map(p -> p.unique().toString().toLowerCase(Locale.ROOT)).orElse("");
    }

    /**
     * The table of {@code cmdline}, refused unless its data device is {@code data} and its hash
     * device is {@code hash}: a table that names other partitions would verify one thing while
     * the guest checks another.
     */
    static VerityTable table(String cmdline, Gpt gpt, GptPartition data, GptPartition hash) throws VerityException {
        VerityTable t = VerityTable.fromCmdline(cmdline);
        requireDevice(t.dataDevice(), "data", gpt, data);
        requireDevice(t.hashDevice(), "hash", gpt, hash);
        if (data.equals(hash) && t.hashStartBlock() - 1 < t.dataBlocks()) {
            throw new VerityException("the verity hash area (from block " + Math.max(0, t.hashStartBlock() - 1)
                    + ") overlaps the " + t.dataBlocks() + " data blocks on " + data.name());
        }
        return t;
    }

    private static void requireDevice(String device, String role, Gpt gpt, GptPartition expected) throws VerityException {
        Optional<GptPartition> p = resolve(device, gpt);
        if (p.isEmpty()) {
            throw new VerityException("the verity table's " + role + " device '" + abbreviate(device)
                    + "' is not a PARTUUID=GUID[/PARTNROFF=N] of this disk");
        }
        if (p.get().number() != expected.number()) {
            throw new VerityException("the verity table's " + role + " device is partition " + p.get().number() + " ("
                    + p.get().name() + "), not " + expected.name());
        }
    }

    /** The partition a {@code PARTUUID=} device names, as the kernel's name_to_dev_t resolves it. */
    static Optional<GptPartition> resolve(String device, Gpt gpt) {
        Matcher m = PARTUUID.matcher(device);
        if (!m.matches()) {
            return Optional.empty();
        }
        Guid g;
        try {
            g = Guid.parse(m.group(1));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        int off = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
        return gpt.partitions().stream().filter(p -> p.unique().equals(g)).findFirst()
                .flatMap(p -> gpt.byNumber(p.number() + off));
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }
}
