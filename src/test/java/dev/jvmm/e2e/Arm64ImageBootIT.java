package dev.jvmm.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * arm64 container-OS images (`jvmm image build --arch aarch64`: jvmm's arm64 kernel, Debian's
 * arm64 busybox, the agent cross-compiled) booted by `jvmm boot IMAGE`, which takes the
 * architecture from the image's kernel: in the arm64 lab here, one L1 per boot and two boots in
 * all, each covering as much as it can. Bottlerocket layout (vmlinuz an Image.gz): a tampered
 * update falls back within one run and --exec runs on the old slot; COS layout (KERN holding the
 * Image), from an .img.lz4: --update-from boots the new slot and --exec runs on it. Then the
 * host-side rules: reproducible builds, no update across architectures.
 */
class Arm64ImageBootIT {
    @TempDir
    static Path tmp;

    static final String ARCH = "aarch64";

    /** A line of --exec's output: `uname -m` says aarch64. */
    static final Pattern UNAME = Pattern.compile("(?m)^aarch64\\r?$");

    static Jvmm.Result boot(String... args) throws Exception {
        String[] argv = new String[args.length + 4];
        argv[0] = "boot";
        System.arraycopy(args, 0, argv, 1, args.length);
        argv[args.length + 1] = "--timeout";
        argv[args.length + 2] = "300";
        argv[args.length + 3] = "--timeline";
        return Jvmm.run(1800, argv);
    }

    static void report(String what, Jvmm.Result r) {
        Matcher ready = Pattern.compile("([\\d.]+)\\s+\\(\\+\\s*[\\d.]+\\)\\s+boot (\\d+): guest ready \\(boot timer\\)")
                .matcher(r.all());
        StringBuilder b = new StringBuilder();
        while (ready.find()) {
            b.append(" pass ").append(ready.group(2)).append(" ready at ").append(ready.group(1)).append(" ms;");
        }
        System.out.printf("Arm64ImageBootIT %s:%s %.1f s wall%n", what, b, r.millis() / 1000.0);
    }

    @Test
    void bottlerocketATamperedUpdateFallsBackAndExecRunsOnArm64() throws Exception {
        Path img = TestImages.copy("bottlerocket", "1.0.0", tmp, "br-bad-update.img", ARCH);
        Jvmm.Result up = Jvmm.run(300, "image", "upgrade", img.toString(), "--from",
                TestImages.built("bottlerocket", "2.0.0", false, ARCH).toString(), "--tries", "1");
        assertEquals(0, up.status(), up.all());
        // After the write: one flipped byte in the erofs superblock of ROOT-B, which every boot reads.
        long at = ImageBootIT.part(img, "BOTTLEROCKET-ROOT-B").offsetBytes() + 1024 + 8;
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x5a);
        }
        Path metrics = tmp.resolve("br-bad.json");
        Jvmm.Result r = boot(img.toString(), "--metrics", metrics.toString(), "--exec",
                "uname -m; cat /etc/os-release; touch /usr/x; echo touch=$?");
        String all = r.all();
        report("bottlerocket fallback", r);
        assertEquals(0, r.status(), all);
        assertTrue(all.contains("in the aarch64 lab"), "the image's kernel sent it to the arm64 lab: " + all);
        assertTrue(all.contains("jvmm: boot 1: bottlerocket slot B v2.0.0"), all);
        assertTrue(all.contains("device-mapper: verity"), "ROOT-B's verity caught the flip: " + all);
        assertTrue(all.contains("jvmm: boot 2: bottlerocket slot A v1.0.0"), all);
        assertTrue(all.contains("jvmm: slot A marked successful"), all);
        assertTrue(all.contains("kernel loaded (Image)"), "vmlinuz inflated once, by the firmware: " + all);
        assertTrue(UNAME.matcher(r.out()).find(), "uname -m: " + r.out());
        assertTrue(all.contains("VERSION_ID=1.0.0"), all);
        assertTrue(all.contains("Read-only file system") && all.contains("touch=1"), all);
        JsonNode boots = ImageBootIT.JSON.readTree(metrics.toFile()).path("boots");
        assertEquals(2, boots.size(), boots.toString());
        assertEquals("B", boots.get(0).path("slot").asText());
        assertTrue(boots.get(0).path("outcome").asText().matches("verity|panicked|rebooted"), boots.toString());
        assertEquals("A", boots.get(1).path("slot").asText());
        assertEquals("marked", boots.get(1).path("outcome").asText(), boots.toString());
        JsonNode b = ImageBootIT.slot(ImageBootIT.status(img), "B");
        assertEquals(0, b.get("triesLeft").asInt(), b.toString());
        assertTrue(!b.get("successful").asBoolean(), b.toString());
    }

    @Test
    void cosAnUpdateFromACompressedImageBootsTheNewSlotAndExecRunsOnIt() throws Exception {
        Path v1 = TestImages.built("cos", "1.0.0", true, ARCH);
        Path v2 = TestImages.built("cos", "2.0.0", false, ARCH);
        String v1Before = ImageBootIT.sha(v1);
        Path metrics = tmp.resolve("cos-update.json");
        Jvmm.Result r = boot(v1.toString(), "--update-from", v2.toString(), "--metrics", metrics.toString(), "--exec",
                "uname -m; cat /etc/os-release");
        String all = r.all();
        report("cos update", r);
        assertEquals(0, r.status(), all);
        assertTrue(all.contains("jvmm: boot 1: cos slot A v1.0.0"), all);
        assertTrue(all.contains("jvmm: slot A marked successful"), all);
        assertTrue(Pattern.compile("jvmm: boot 2: cos slot B v2\\.0\\.0 \\(priority [0-9>-]+, tries 1->0").matcher(all).find(),
                all);
        assertTrue(all.contains("jvmm: slot B marked successful"), all);
        assertTrue(UNAME.matcher(r.out()).find(), "uname -m: " + r.out());
        assertTrue(all.contains("VERSION_ID=2.0.0"), "--exec ran on the new slot: " + all);
        assertEquals(v1Before, ImageBootIT.sha(v1), "the compressed image never changes");
        JsonNode boots = ImageBootIT.JSON.readTree(metrics.toFile()).path("boots");
        assertEquals(2, boots.size(), boots.toString());
        assertEquals("marked", boots.get(1).path("outcome").asText(), boots.toString());
    }

    @Test
    void arm64ImagesAreReproducibleAndNoUpdateCrossesArchitectures() throws Exception {
        Path again = tmp.resolve("again.img");
        Jvmm.Result build = Jvmm.run(900, "image", "build", "--arch", ARCH, "--layout", "bottlerocket", "--version", "1.0.0",
                "--out", again.toString());
        assertEquals(0, build.status(), build.all());
        assertEquals(ImageBootIT.sha(TestImages.built("bottlerocket", "1.0.0", false, ARCH)), ImageBootIT.sha(again),
                "same inputs, same bytes");
        Path x86 = TestImages.copy("bottlerocket", "1.0.0", tmp, "x86.img");
        String x86Before = ImageBootIT.sha(x86);
        Jvmm.Result up = Jvmm.run(300, "image", "upgrade", x86.toString(), "--from", again.toString());
        assertEquals(1, up.status(), up.all());
        assertTrue(up.err().contains("is an aarch64 image and this one is x86_64"), up.all());
        Jvmm.Result boot = Jvmm.run(300, "boot", x86.toString(), "--update-from", again.toString(), "--lab=never");
        assertEquals(2, boot.status(), "refused before any guest runs: " + boot.all());
        assertTrue(boot.err().contains("--update-from " + again + " is an aarch64 image"), boot.all());
        assertEquals(x86Before, ImageBootIT.sha(x86), "refusals leave the image as it was");
    }
}
