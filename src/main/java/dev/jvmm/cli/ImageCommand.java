package dev.jvmm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.jvmm.boot.gpt.GptException;
import dev.jvmm.boot.gpt.GptPartition;
import dev.jvmm.boot.gpt.GptRead;
import dev.jvmm.boot.ab.AbException;
import dev.jvmm.images.disk.DiskImage;
import dev.jvmm.images.disk.ImageArch;
import dev.jvmm.images.firmware.Firmware;
import dev.jvmm.images.firmware.FirmwareException;
import dev.jvmm.machine.Architectures;
import dev.jvmm.machine.ImageInput;
import dev.jvmm.machine.arch.Arch;
import dev.jvmm.images.disk.ImageBuilder;
import dev.jvmm.images.disk.Layout;
import dev.jvmm.images.disk.Lz4;
import dev.jvmm.vmm.sys.DiskLock;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "image", mixinStandardHelpOptions = true,
        description = {"Container-OS disk images: build them, and read or change their A/B state on the host.",
                "Commands that change an image check everything first; a refused command leaves it untouched."},
        subcommands = {ImageCommand.Build.class, ImageCommand.Status.class, ImageCommand.Verify.class,
                ImageCommand.Upgrade.class, ImageCommand.Rollback.class, ImageCommand.CancelUpgrade.class,
                ImageCommand.MarkSuccessful.class, ImageCommand.Repair.class})
final class ImageCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /**
     * Opens FILE; an .img.lz4 is decompressed to a temporary file (read-only use only). For
     * writing, FILE is locked exclusively from before it is read until the change is written, so
     * a running VM or another command cannot change it in between (a held lock: one line, status 1).
     */
    static final class Opened implements AutoCloseable {
        final DiskImage image;
        private final Path temp;
        private final DiskLock lock;

        private final Path file;

        Opened(Path file, boolean forWriting) throws Exception {
            this.file = file;
            if (isLz4File(file)) {
                if (forWriting) {
                    throw new IOException(file + " is an LZ4 frame; decompress it first (lz4 -d) to change it");
                }
                lock = null;
                temp = Files.createTempFile("jvmm-image", ".img");
                Lz4.decompress(file, temp);
                image = DiskImage.open(temp);
            } else {
                temp = null;
                lock = forWriting ? DiskLock.acquire(file, true) : null;
                try {
                    image = DiskImage.open(file);
                } catch (Exception | Error e) {
                    if (lock != null) {
                        lock.close();
                    }
                    throw e;
                }
            }
        }

        /** The image file as read: FILE, or the decompressed copy of an .img.lz4. */
        Path path() {
            return temp != null ? temp : file;
        }

        /** Reading goes on from one usable GPT copy; say so on stderr, one line, so stdout stays the report. */
        void warnIfGptNeedsRepair(Path file) {
            GptRead r = image.gptRead();
            if (r.needsRepair()) {
                System.err.println("jvmm: warning: " + r.description() + "; 'jvmm image repair " + file + "' fixes it");
            }
        }

        @Override
        public void close() throws IOException {
            if (lock != null) {
                lock.close();
            }
            if (temp != null) {
                Files.deleteIfExists(temp);
            }
        }
    }

    /**
     * Why {@code source}'s OS cannot go into {@code target}: its kernel is of another architecture
     * than the one {@code target} boots now; null when they agree or when either has no slot a
     * firmware pass would boot (the rules of the command itself then decide).
     */
    static String crossArch(Opened target, Opened source) throws IOException {
        Arch arch;
        try {
            arch = Architectures.ofKernel(Firmware.inspect(target.path()).kernel(), Arch.host());
        } catch (FirmwareException e) {
            return null;
        }
        return ImageInput.crossArchUpdate(arch, source.path());
    }

    static boolean isLz4File(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + " does not exist or is not a file");
        }
        return Lz4.isLz4(file);
    }

    static String slotOption(String s) {
        if (s != null && !s.equals("A") && !s.equals("B")) {
            throw new IllegalArgumentException("--active must be A or B");
        }
        return s;
    }

    @Command(name = "build", mixinStandardHelpOptions = true, description = "Build a disk image (reproducible: same inputs, same bytes).")
    static final class Build implements Callable<Integer> {
        @Option(names = "--layout", defaultValue = "bottlerocket", description = "bottlerocket (default) or cos")
        String layout;

        @Option(names = "--out", required = true, paramLabel = "FILE", description = "output image")
        Path out;

        @Option(names = "--lz4", description = "write one LZ4 frame (.img.lz4, Bottlerocket's download format)")
        boolean lz4;

        @Option(names = "--version", defaultValue = "1.0.0", description = "OS version written into the image (default ${DEFAULT-VALUE})")
        String version;

        @Option(names = "--arch", paramLabel = "ARCH",
                description = "x86_64 or aarch64 (default: the host's): jvmm's kernel, busybox and agent of that architecture"
                        + " (aarch64 on another host: Debian's busybox-static:arm64, the agent cross-compiled)")
        Arch arch;

        @Override
        public Integer call() throws Exception {
            Arch a = arch == null ? Arch.host() : arch;
            new ImageBuilder(Layout.parse(layout), version, new ImageArch(a.name(), Guest.busybox(a)), System.err)
                    .build(out, lz4);
            System.out.println(out.toAbsolutePath());
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Partitions, slots, the slot that boots next and why.")
    static final class Status implements Callable<Integer> {
        @Parameters(paramLabel = "FILE")
        Path file;

        @Option(names = "--json", description = "machine-readable output")
        boolean json;

        @Override
        public Integer call() throws Exception {
            try (Opened o = new Opened(file, false)) {
                o.warnIfGptNeedsRepair(file);
                Map<String, Object> m = describe(file, o.image);
                if (json) {
                    System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m));
                } else {
                    print(m, o.image);
                }
            }
            return 0;
        }

        static Map<String, Object> describe(Path file, DiskImage img) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("file", file.toAbsolutePath().toString());
            m.put("layout", img.layout().cliName());
            m.put("diskGuid", img.gpt().diskGuid().toString());
            m.put("sizeBytes", img.gpt().totalSectors() * 512);
            m.put("gptState", img.gptRead().state().name());
            DiskImage.NextBoot next = img.nextBoot();
            m.put("nextBoot", next.slot().orElse(null));
            m.put("nextBootReason", next.why());
            m.put("active", img.activeSlot());
            List<Map<String, Object>> slots = new ArrayList<>();
            for (DiskImage.SlotInfo s : img.slots()) {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("slot", s.name());
                x.put("partition", s.boot().number());
                x.put("label", s.boot().name());
                x.put("priority", s.attrs().priority());
                x.put("triesLeft", s.attrs().triesLeft());
                x.put("successful", s.attrs().successful());
                x.put("populated", s.populated());
                x.put("version", s.version());
                x.put("rootHash", s.rootHash());
                x.put("salt", s.salt());
                x.put("dataBlocks", s.dataBlocks());
                slots.add(x);
            }
            m.put("slots", slots);
            List<Map<String, Object>> parts = new ArrayList<>();
            for (GptPartition p : img.gpt().partitions()) {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("number", p.number());
                x.put("name", p.name());
                x.put("type", p.type().toString());
                x.put("uniqueGuid", p.unique().toString());
                x.put("firstLba", p.firstLba());
                x.put("lastLba", p.lastLba());
                x.put("sizeBytes", p.sizeBytes());
                x.put("attributes", String.format("0x%016x", p.attributes()));
                parts.add(x);
            }
            m.put("partitions", parts);
            return m;
        }

        @SuppressWarnings("unchecked")
        static void print(Map<String, Object> m, DiskImage img) {
            System.out.printf("image      %s (%s layout, %d MiB)%n", m.get("file"), m.get("layout"),
                    (long) m.get("sizeBytes") >> 20);
            System.out.printf("next boot  %s: %s%n", m.get("nextBoot") == null ? "none" : "slot " + m.get("nextBoot"),
                    m.get("nextBootReason"));
            System.out.printf("active     slot %s (at rest: the successful slot with the highest priority)%n", m.get("active"));
            System.out.printf("%n%-5s %-24s %-8s %-5s %-10s %-10s %s%n", "slot", "partition", "priority", "tries",
                    "successful", "version", "root hash");
            for (Map<String, Object> s : (List<Map<String, Object>>) m.get("slots")) {
                System.out.printf("%-5s %-24s %-8s %-5s %-10s %-10s %s%n", s.get("slot"),
                        s.get("partition") + " " + s.get("label"), s.get("priority"), s.get("triesLeft"),
                        (boolean) s.get("successful") ? 1 : 0, s.get("populated").equals(true) ? s.get("version") : "(empty)",
                        s.get("rootHash") == null ? "-" : s.get("rootHash"));
            }
            System.out.printf("%n%-3s %-26s %10s %10s %8s  %-36s %s%n", "#", "name", "first LBA", "last LBA", "MiB",
                    "type", "attributes");
            for (Map<String, Object> p : (List<Map<String, Object>>) m.get("partitions")) {
                System.out.printf("%-3s %-26s %10s %10s %8.1f  %-36s %s%n", p.get("number"), p.get("name"), p.get("firstLba"),
                        p.get("lastLba"), (long) p.get("sizeBytes") / 1048576.0, p.get("type"), p.get("attributes"));
            }
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Check both GPT copies and the dm-verity tree of every populated slot.")
    static final class Verify implements Callable<Integer> {
        @Parameters(paramLabel = "FILE")
        Path file;

        @Override
        public Integer call() throws Exception {
            try (Opened o = new Opened(file, false)) {
                GptRead r = o.image.gptRead();
                if (r.needsRepair()) {
                    throw new GptException("GPT: " + r.description() + "; run 'jvmm image repair " + file + "'");
                }
                System.out.println("GPT: primary and backup headers and entries valid and identical ("
                        + o.image.gpt().partitions().size() + " partitions)");
                for (DiskImage.SlotInfo s : o.image.slots()) {
                    if (!s.populated()) {
                        System.out.println("slot " + s.name() + ": empty");
                        continue;
                    }
                    o.image.verifySlot(s);
                    System.out.println("slot " + s.name() + ": dm-verity ok (" + s.dataBlocks() + " blocks, root " + s.rootHash() + ")");
                }
            }
            return 0;
        }
    }

    @Command(name = "upgrade", mixinStandardHelpOptions = true,
            description = {"Write the inactive slot from another image and switch to it.",
                    "Follows signpost's clear-inactive, write, mark-inactive-valid, upgrade-to-inactive",
                    "(Bottlerocket), or cgpt's priority/tries update (COS)."})
    static final class Upgrade implements Callable<Integer> {
        @Parameters(paramLabel = "FILE")
        Path file;

        @Option(names = "--from", required = true, paramLabel = "NEW_IMAGE", description = "image (or .img.lz4) to take the OS from")
        Path from;

        @Option(names = "--active", paramLabel = "A|B", description = "the running slot (default: as the image at rest shows)")
        String active;

        @Option(names = "--tries", defaultValue = "6", description = "COS: tries for the new slot (default ${DEFAULT-VALUE})")
        int tries;

        @Override
        public Integer call() throws Exception {
            try (Opened target = new Opened(file, true); Opened source = new Opened(from, false)) {
                source.warnIfGptNeedsRepair(from);
                String refusal = crossArch(target, source);
                if (refusal != null) {
                    throw new AbException(refusal);
                }
                target.image.upgradeFrom(source.image, slotOption(active), tries);
            }
            try (Opened after = new Opened(file, false)) {
                System.out.println("upgraded: next boot is slot " + after.image.nextBoot().slot().orElse("none") + " ("
                        + after.image.slot(after.image.nextBoot().slot().orElse("A")).version() + ")");
            }
            return 0;
        }
    }

    /** A command that changes one image's A/B state, relative to its running slot. */
    abstract static class SlotCommand implements Callable<Integer> {
        @Parameters(paramLabel = "FILE")
        Path file;

        @Option(names = "--active", paramLabel = "A|B", description = "the running slot (default: as the image at rest shows)")
        String active;

        abstract void apply(DiskImage image, String activeSlot) throws Exception;

        @Override
        public Integer call() throws Exception {
            try (Opened o = new Opened(file, true)) {
                apply(o.image, slotOption(active));
            }
            return 0;
        }
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true, description = "Boot the inactive slot next (it must be bootable).")
    static final class Rollback extends SlotCommand {
        @Override
        void apply(DiskImage image, String activeSlot) throws Exception {
            image.rollback(activeSlot);
        }
    }

    @Command(name = "cancel-upgrade", mixinStandardHelpOptions = true, description = "Abandon a pending upgrade: the active slot boots next.")
    static final class CancelUpgrade extends SlotCommand {
        @Override
        void apply(DiskImage image, String activeSlot) throws Exception {
            image.cancelUpgrade(activeSlot);
        }
    }

    @Command(name = "mark-successful", mixinStandardHelpOptions = true, description = "Mark the running slot's boot successful.")
    static final class MarkSuccessful extends SlotCommand {
        @Override
        void apply(DiskImage image, String activeSlot) throws Exception {
            image.markSuccessful(activeSlot);
        }
    }

    @Command(name = "repair", mixinStandardHelpOptions = true,
            description = {"Rewrite a damaged or stale GPT copy from the valid one (or, when both are valid but",
                    "differ, from the backup: jvmm writes it first, so it is the newer). Exit 1 when neither is valid."})
    static final class Repair implements Callable<Integer> {
        @Parameters(paramLabel = "FILE")
        Path file;

        @Override
        public Integer call() throws Exception {
            if (isLz4File(file)) {
                throw new IOException(file + " is an LZ4 frame; decompress it first (lz4 -d) to repair it");
            }
            try (DiskLock lock = DiskLock.acquire(file, true)) {
                System.out.println(DiskImage.repair(file).repairAction());
            }
            return 0;
        }
    }
}
