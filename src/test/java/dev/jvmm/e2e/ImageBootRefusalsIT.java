package dev.jvmm.e2e;

import dev.jvmm.boot.ab.AbAttributes;
import dev.jvmm.boot.gpt.Gpt;
import dev.jvmm.boot.gpt.GptPartition;
import dev.jvmm.boot.gpt.Guid;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad images given to `jvmm boot`: each is refused in one line with a non-zero status by the
 * host-side firmware check, before any lab or guest runs, and the file is left as it was.
 */
class ImageBootRefusalsIT {
    @TempDir
    static Path tmp;
    static Path br;
    static Path cos;

    @BeforeAll
    static void images() throws Exception {
        br = TestImages.built("bottlerocket", "1.0.0", false);
        cos = TestImages.built("cos", "1.0.0", false);
    }

    interface Damage {
        void apply(Path img) throws Exception;
    }

    static Path damaged(Path from, String name, Damage d) throws Exception {
        Path img = tmp.resolve(name);
        Files.copy(from, img);
        d.apply(img);
        return img;
    }

    /** Boots {@code img} and checks: status, one line on stderr containing {@code words}, file unchanged. */
    static void refused(Path img, int status, String words) throws Exception {
        String before = ImageBootIT.sha(img);
        Jvmm.Result r = Jvmm.run(300, "boot", img.toString(), "--timeout", "60");
        assertEquals(status, r.status(), r.all());
        List<String> lines = r.err().strip().lines().toList();
        assertEquals(1, lines.size(), "one line: " + r.err());
        assertTrue(lines.get(0).startsWith("jvmm: ") && lines.get(0).contains(words), r.err());
        assertTrue(!r.all().contains("lab:") && !r.all().contains("Linux version"), "no guest ran: " + r.all());
        assertEquals(before, ImageBootIT.sha(img), "the image is unchanged");
    }

    static void overwrite(Path img, long at, byte[] bytes) throws Exception {
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(bytes), at);
        }
    }

    static Gpt gpt(Path img) throws Exception {
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ)) {
            return Gpt.read(ch);
        }
    }

    static void rewrite(Path img, Gpt g) throws Exception {
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            g.write(ch);
        }
    }

    /** One file of BOOT-A's ext4, read with debugfs. */
    static String readInBootA(Path img, String path) throws Exception {
        GptPartition boot = gpt(img).byName("BOTTLEROCKET-BOOT-A").orElseThrow();
        Process p = new ProcessBuilder("debugfs", "-R", "cat " + path, img + "?offset=" + boot.offsetBytes())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor());
        return out;
    }

    /** Replaces one file inside BOOT-A's ext4 with debugfs (a tool no one here wrote). */
    static void replaceInBootA(Path img, String path, byte[] content) throws Exception {
        GptPartition boot = gpt(img).byName("BOTTLEROCKET-BOOT-A").orElseThrow();
        Path dir = Files.createTempDirectory("jvmm-boot-edit");
        Path part = Jvmm.extract(img, boot, dir.resolve("boot.ext4"));
        Path file = dir.resolve("content");
        Files.write(file, content);
        Process p = new ProcessBuilder("debugfs", "-w", "-R", "rm " + path, part.toString()).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertEquals(0, p.waitFor());
        p = new ProcessBuilder("debugfs", "-w", "-R", "write " + file + " " + path, part.toString()).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertEquals(0, p.waitFor());
        try (FileChannel in = FileChannel.open(part, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(img, StandardOpenOption.WRITE)) {
            long n = 0;
            while (n < in.size()) {
                n += in.transferTo(n, in.size() - n, out.position(boot.offsetBytes() + n));
            }
        }
    }

    @Test
    void truncated() throws Exception {
        refused(damaged(br, "truncated.img", img -> {
            try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
                ch.truncate(ch.size() / 3);
            }
        }), 2, "GPT");
    }

    @Test
    void zeroedGpt() throws Exception {
        refused(damaged(cos, "zeroed.img", img -> {
            long size = Files.size(img);
            overwrite(img, 0, new byte[34 * 512]);
            overwrite(img, size - 33 * 512, new byte[33 * 512]);
        }), 2, "GPT");
    }

    @Test
    void noBootOrKernPartition() throws Exception {
        refused(damaged(br, "no-boot.img", img -> {
            Gpt g = gpt(img);
            for (GptPartition p : g.partitions()) {
                if (p.name().startsWith("BOTTLEROCKET-BOOT-")) {
                    g = g.with(new GptPartition(p.number(), Guid.parse("0FC63DAF-8483-4772-8E79-3D69D8477DE4"), p.unique(),
                            p.firstLba(), p.lastLba(), p.attributes(), p.name()));
                }
            }
            rewrite(img, g);
        }), 2, "no BOOT or KERN partition");
    }

    @Test
    void grubCfgWithoutALinuxLine() throws Exception {
        refused(damaged(br, "no-linux.img", img -> replaceInBootA(img, "/grub/grub.cfg",
                "set default=\"0\"\nmenuentry \"x\" {\n  echo nothing to boot\n}\n".getBytes())), 2, "linux");
    }

    @Test
    void kernelThatIsNoKernel() throws Exception {
        refused(damaged(br, "not-a-kernel.img", img -> replaceInBootA(img, "/vmlinuz", new byte[100_000])), 2, "kernel");
        refused(damaged(cos, "cos-bad-kern.img", img -> {
            GptPartition kern = gpt(img).byName("KERN-A").orElseThrow();
            overwrite(img, kern.offsetBytes(), "NOTAKERN".getBytes());
        }), 2, "KERN-A");
    }

    @Test
    void bothSlotsUnbootable() throws Exception {
        for (Path from : List.of(br, cos)) {
            refused(damaged(from, "unbootable-" + from.getFileName(), img -> {
                Gpt g = gpt(img);
                for (GptPartition p : g.partitions()) {
                    if (p.name().matches("(BOTTLEROCKET-BOOT|KERN)-[AB]")) {
                        g = g.with(p.withAttributes(AbAttributes.ZERO.applyTo(p.attributes())));
                    }
                }
                rewrite(img, g);
            }), 66, "no bootable slot");
        }
    }

    @Test
    void corruptExt4() throws Exception {
        refused(damaged(br, "bad-ext4.img", img -> {
            GptPartition boot = gpt(img).byName("BOTTLEROCKET-BOOT-A").orElseThrow();
            overwrite(img, boot.offsetBytes() + 1024, new byte[1024]); // the superblock
        }), 2, "BOTTLEROCKET-BOOT-A");
    }
}
