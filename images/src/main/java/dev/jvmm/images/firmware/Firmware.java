package dev.jvmm.images.firmware;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.boot.ab.AbAttributes;
import dev.jvmm.boot.ab.AbException;
import dev.jvmm.boot.ab.Cgpt;
import dev.jvmm.boot.ab.Gptprio;
import dev.jvmm.boot.ab.Slot;
import dev.jvmm.boot.arm64.Arm64Image;
import dev.jvmm.boot.ext4.Ext4;
import dev.jvmm.boot.ext4.Ext4Exception;
import dev.jvmm.boot.gpt.Gpt;
import dev.jvmm.boot.gpt.GptException;
import dev.jvmm.boot.gpt.GptPartition;
import dev.jvmm.boot.gpt.GptRead;
import dev.jvmm.boot.gpt.Guid;
import dev.jvmm.boot.grub.GrubEntry;
import dev.jvmm.boot.grub.GrubException;
import dev.jvmm.boot.x86.KernelImage;
import dev.jvmm.images.disk.KernHeaderException;
import dev.jvmm.images.disk.KernelPartition;
import dev.jvmm.images.disk.Layout;
import dev.jvmm.images.disk.SlotTable;
import dev.jvmm.images.firmware.BootChoice.SectorRange;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * jvmm as the firmware and boot loader of a container-OS disk: one pass reads the GPT, picks
 * the slot the image's own boot chain would (GRUB's gptprio for Bottlerocket, vboot's kernel
 * selection for COS), reads that slot's kernel and command line (grub.cfg from BOOT-x's ext4, or
 * the KERN-x header) and only then writes the tries decrement back, synced, as GRUB and vboot do
 * before the kernel starts. Anything unreadable fails before the disk is touched.
 */
public final class Firmware {
    /** A kernel larger than this is not a kernel this firmware loads. */
    static final long MAX_KERNEL_BYTES = 256L << 20;
    static final long MAX_GRUB_CFG_BYTES = 64 << 10;
    /** What the firmware adds about jvmm's x86_64 machine after the image's own command line and jvmm.slot. */
    public static final String PLATFORM_WORDS = "i8042.noaux";

    private Firmware() {}

    /** Runs one firmware pass on {@code disk}: the choice it returns is already recorded on the disk. */
    public static BootChoice pass(Path disk) throws IOException, FirmwareException {
        try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            return pass(ch, true);
        }
    }

    /** What a pass would choose, with every check, writing nothing: jvmm's check of an image before any guest runs. */
    public static BootChoice inspect(Path disk) throws IOException, FirmwareException {
        try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.READ)) {
            return pass(ch, false);
        }
    }

    static BootChoice pass(FileChannel ch, boolean write) throws IOException, FirmwareException {
        GptRead read;
        try {
            // As firmware does: one valid copy is enough to boot, and the pass says which.
            read = Gpt.readRecovering(ch);
        } catch (GptException e) {
            throw new FirmwareException("GPT: " + e.getMessage());
        }
        Gpt gpt = read.gpt();
        String gptNote = read.needsRepair() ? "GPT: " + read.description() : null;
        Layout layout = Layout.of(gpt).orElseThrow(() -> new FirmwareException(Layout.NOT_A_LAYOUT));
        Guid bootType = layout == Layout.BOTTLEROCKET ? Layout.BR_BOOT : Layout.CROS_KERNEL;
        List<Slot> slots = new ArrayList<>();
        for (GptPartition p : gpt.partitions()) {
            if (p.type().equals(bootType)) {
                slots.add(new Slot(slotName(p), p.number(), AbAttributes.of(p.attributes())));
            }
        }
        Optional<Slot> next = layout == Layout.BOTTLEROCKET ? Gptprio.next(slots) : Cgpt.next(slots);
        if (next.isEmpty()) {
            StringBuilder why = new StringBuilder("no bootable slot (" + (layout == Layout.BOTTLEROCKET ? "gptprio" : "cgpt")
                    + "):");
            for (Slot s : slots) {
                AbAttributes a = s.attrs();
                why.append(' ').append(s.name()).append(" priority ").append(a.priority()).append(" tries ")
                        .append(a.triesLeft()).append(" successful ").append(a.successful() ? 1 : 0).append(';');
            }
            throw new FirmwareException(why.substring(0, why.length() - 1), true);
        }
        Slot chosen = next.get();
        GptPartition boot = gpt.byNumber(chosen.partitionNumber()).orElseThrow();
        Loaded loaded = layout == Layout.BOTTLEROCKET ? bottlerocket(ch, gpt, boot) : cos(ch, boot);
        byte[] kernel;
        try {
            kernel = kernelToBoot(loaded.kernel());
        } catch (KernelLoadException e) {
            throw new FirmwareException("slot " + chosen.name() + ": " + e.getMessage());
        }
        List<SectorRange> ranges = protectedRanges(gpt, layout, boot, chosen.name());

        // Everything is read and checked: now the decrement, as the boot loader writes it.
        List<Slot> after;
        try {
            after = layout == Layout.BOTTLEROCKET ? Gptprio.boot(slots) : Cgpt.afterTry(slots, chosen);
        } catch (AbException e) {
            throw new FirmwareException(e.getMessage());
        }
        AbAttributes afterBits = after.stream().filter(s -> s.partitionNumber() == chosen.partitionNumber())
                .findFirst().orElseThrow().attrs();
        if (write && !afterBits.equals(chosen.attrs())) {
            try {
                Gpt updated = gpt;
                for (Slot s : after) {
                    GptPartition p = updated.byNumber(s.partitionNumber()).orElseThrow();
                    updated = updated.with(p.withAttributes(s.attrs().applyTo(p.attributes())));
                }
                updated.write(ch);
                ch.force(true);
            } catch (GptException e) {
                throw new FirmwareException("GPT: " + e.getMessage());
            }
        }
        // i8042.noaux (x86_64): jvmm's PS/2 controller has no AUX (mouse) port and its DSDT lists none,
        // which Linux otherwise warns about ("PNP: PS/2 appears to have AUX port disabled"); a kernel
        // boot's default command line says the same. An arm64 machine has no i8042.
        boolean arm64 = Arm64Image.isArm64Kernel(kernel);
        String cmdline = loaded.cmdline() + " jvmm.slot=" + chosen.name() + (arm64 ? "" : " " + PLATFORM_WORDS);
        return new BootChoice(layout, chosen.name(), loaded.version(), chosen.attrs(), afterBits, kernel, cmdline,
                ranges, gptNote);
    }

    private record Loaded(byte[] kernel, String cmdline, String version) {}

    /**
     * Checks that {@code kernel} is one jvmm boots, of either architecture, and returns it as the
     * boot loader hands it over: an arm64 Image.gz (Bottlerocket's vmlinuz) or EFI zboot inflated
     * to its Image, as GRUB's arm64 loader does (once per pass, not again in the machine: a
     * kernel's inflate costs seconds under the lab's emulation), a plain Image or an x86_64
     * bzImage or vmlinux as it is. The machine takes its architecture from the same bytes.
     */
    static byte[] kernelToBoot(byte[] kernel) throws KernelLoadException {
        if (Arm64Image.isArm64Kernel(kernel)) {
            return Arm64Image.parse(kernel).image();
        }
        if (!KernelImage.recognises(kernel)) {
            throw new KernelLoadException("not a kernel jvmm boots: neither an x86_64 bzImage or ELF vmlinux nor an arm64"
                    + " Image (plain, gzip'd or EFI zboot)");
        }
        KernelImage.parse(kernel);
        return kernel;
    }

    /** "BOTTLEROCKET-BOOT-B" and "KERN-B" are slot B; a label without the suffix goes by its number. */
    private static String slotName(GptPartition p) {
        String n = p.name();
        int dash = n.lastIndexOf('-');
        return dash >= 0 && dash == n.length() - 2 ? n.substring(dash + 1) : "#" + p.number();
    }

    /** The booted slot's partitions the guest must not write: BOOT/KERN, ROOT and HASH. */
    static List<SectorRange> protectedRanges(Gpt gpt, Layout layout, GptPartition boot, String slot) {
        List<SectorRange> out = new ArrayList<>();
        out.add(new SectorRange(boot.name(), boot.firstLba(), boot.lastLba()));
        List<String> names = layout == Layout.BOTTLEROCKET
                ? List.of("BOTTLEROCKET-ROOT-" + slot, "BOTTLEROCKET-HASH-" + slot) : List.of("ROOT-" + slot);
        for (String n : names) {
            gpt.byName(n).ifPresent(p -> out.add(new SectorRange(p.name(), p.firstLba(), p.lastLba())));
        }
        return out;
    }

    private static Loaded bottlerocket(FileChannel ch, Gpt gpt, GptPartition boot) throws IOException, FirmwareException {
        String where = boot.name() + " (ext4)";
        try {
            Ext4 fs = Ext4.open(ch, boot.offsetBytes(), boot.sizeBytes());
            String cfg = new String(fs.readFile("/grub/grub.cfg", MAX_GRUB_CFG_BYTES), StandardCharsets.UTF_8);
            String root = SlotTable.grubDevice(boot);
            GrubEntry entry = SlotTable.grubEntry(cfg, gpt, boot);
            if (entry.kernel().device() != null && !entry.kernel().device().equals(root)) {
                throw new FirmwareException(where + ": grub.cfg loads its kernel from (" + entry.kernel().device()
                        + "), not from its own partition (" + root + ")");
            }
            if (!entry.initrds().isEmpty()) {
                throw new FirmwareException(where + ": grub.cfg names an initrd; this firmware boots the kernel alone");
            }
            byte[] kernel = fs.readFile(entry.kernel().path(), MAX_KERNEL_BYTES);
            return new Loaded(kernel, entry.bootImageCmdline(), SlotTable.version(entry));
        } catch (Ext4Exception e) {
            throw new FirmwareException(where + ": " + e.getMessage());
        } catch (GrubException e) {
            throw new FirmwareException(where + ": grub.cfg: " + e.getMessage());
        }
    }

    private static Loaded cos(FileChannel ch, GptPartition kern) throws IOException, FirmwareException {
        KernelPartition kp;
        try {
            kp = KernelPartition.read(ch, kern.offsetBytes(), kern.sizeBytes());
        } catch (KernHeaderException e) {
            throw new FirmwareException(kern.name() + ": jvmm kernel header is damaged: " + e.getMessage());
        }
        if (kp == null) {
            throw new FirmwareException(kern.name() + ": no valid jvmm kernel header (magic JVMMKRN1, version 1)");
        }
        if (kp.kernelSize() > MAX_KERNEL_BYTES) {
            throw new FirmwareException(kern.name() + ": kernel of " + kp.kernelSize() + " bytes is larger than "
                    + MAX_KERNEL_BYTES);
        }
        ByteBuffer k = ByteBuffer.allocate((int) kp.kernelSize());
        long at = kern.offsetBytes() + KernelPartition.HEADER;
        while (k.hasRemaining()) {
            if (ch.read(k, at + k.position()) < 0) {
                throw new FirmwareException(kern.name() + ": the disk ends inside the kernel");
            }
        }
        String cmdline = SlotTable.kernCmdline(kp.cmdline(), kern);
        return new Loaded(k.array(), cmdline, kp.version());
    }
}
