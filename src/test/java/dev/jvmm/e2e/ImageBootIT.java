package dev.jvmm.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jvmm.boot.gpt.Gpt;
import dev.jvmm.boot.gpt.GptPartition;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `jvmm boot IMAGE` end to end (in the lab here): jvmm as the firmware of both layouts, the
 * read-only root enforced by the guest's dm-verity and by jvmm's fence, success marking through
 * the agent, an update through real boots, and a bad update falling back.
 */
class ImageBootIT {
    @TempDir
    static Path tmp;

    static final ObjectMapper JSON = new ObjectMapper();

    static String rootName(String layout, String slot) {
        return (layout.equals("cos") ? "ROOT-" : "BOTTLEROCKET-ROOT-") + slot;
    }

    static GptPartition part(Path img, String name) throws Exception {
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ)) {
            return Gpt.read(ch).byName(name).orElseThrow();
        }
    }

    static String sha(Path file, long offset, long length) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1 << 16);
            long done = 0;
            while (done < length) {
                b.clear().limit((int) Math.min(b.capacity(), length - done));
                int n = ch.read(b, offset + done);
                if (n < 0) {
                    break;
                }
                md.update(b.array(), 0, n);
                done += n;
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static String sha(Path file) throws Exception {
        return sha(file, 0, Files.size(file));
    }

    static JsonNode status(Path img) throws Exception {
        Jvmm.Result r = Jvmm.run(120, "image", "status", "--json", img.toString());
        assertEquals(0, r.status(), r.all());
        return JSON.readTree(r.out());
    }

    static JsonNode slot(JsonNode st, String name) {
        for (JsonNode s : st.get("slots")) {
            if (s.get("slot").asText().equals(name)) {
                return s;
            }
        }
        throw new AssertionError("no slot " + name + " in " + st);
    }

    static Jvmm.Result boot(String... args) throws Exception {
        String[] argv = new String[args.length + 3];
        argv[0] = "boot";
        System.arraycopy(args, 0, argv, 1, args.length);
        argv[args.length + 1] = "--timeout";
        argv[args.length + 2] = "300";
        return Jvmm.run(1500, argv);
    }

    @ParameterizedTest
    @ValueSource(strings = {"bottlerocket", "cos"})
    void freshImageBootsItsVerityRootAndTheFenceHolds(String layout) throws Exception {
        Path img = TestImages.copy(layout, "1.0.0", tmp, layout + "-fresh.img");
        GptPartition rootA = part(img, rootName(layout, "A"));
        GptPartition rootB = part(img, rootName(layout, "B"));
        String rootBefore = sha(img, rootA.offsetBytes(), rootA.sizeBytes());
        String rootBBefore = sha(img, rootB.offsetBytes(), rootB.sizeBytes());
        Path metrics = tmp.resolve(layout + "-fresh.json");
        // One boot, every check: the version, a write to / refused by the guest, a raw write to
        // ROOT-A's sectors refused by jvmm's fence.
        String cmd = "cat /etc/os-release; grep -o 'root=[^ ]*' /proc/cmdline; touch /usr/x; echo touch=$?; "
                + "dd if=/dev/zero of=/dev/vda bs=4096 seek=" + rootA.offsetBytes() / 4096 + " count=1 oflag=direct; "
                + "echo dd=$?; "
                + "printf inactive-slot | dd of=/dev/vda bs=4096 seek=" + rootB.offsetBytes() / 4096 + " conv=sync oflag=direct; "
                + "echo ddB=$?; ";
        boolean ctl = layout.equals("bottlerocket");
        Jvmm.Result r;
        if (ctl) {
            // jvmm ctl from a host script, beside the VM (in the lab: inside L1); --exec waits for its mark.
            Path uds = Path.of("/tmp/jvmm-e2e-ctl-" + ProcessHandle.current().pid() + ".sock");
            Path script = tmp.resolve("ctl.sh");
            Files.writeString(script, """
                    i=0
                    until $JVMM ctl --uds %1$s status > /tmp/ctl.out 2>&1 && grep -q ready=1 /tmp/ctl.out; do
                      i=$((i+1)); [ $i -ge 90 ] && break; sleep 1
                    done
                    echo "ctl status: $(cat /tmp/ctl.out)"
                    echo "ctl version: $($JVMM ctl --uds %1$s version)"
                    $JVMM ctl --uds %1$s exec 'echo via-ctl-$(hostname); touch /run/ctl-done'
                    """.formatted(uds));
            cmd += "i=0; until [ -e /run/ctl-done ] || [ $i -ge 120 ]; do sleep 1; i=$((i+1)); done; exit 3";
            r = boot(img.toString(), "--metrics", metrics.toString(), "--exec", cmd, "--vsock", "cid=3,uds=" + uds,
                    "--host-script", script.toString());
        } else {
            r = boot(img.toString(), "--metrics", metrics.toString(), "--exec", cmd + "exit 3", "--timeline");
        }
        String all = r.all();
        if (!ctl) {
            // The slot's kernel, read on the host and unpacked there (./jvmm kernel build made the entry).
            assertTrue(all.contains("boot 1: kernel loaded (bzImage (boot protocol 2.15), unpacked by jvmm, cached)"), all);
        }
        if (ctl) {
            assertTrue(all.contains("[host-script] ctl status: ready=1 slot=A version=1.0.0"), all);
            assertTrue(all.contains("[host-script] ctl version: 1.0.0"), all);
            assertTrue(all.contains("[host-script] via-ctl-jvmm-os"), all);
        }
        assertEquals(3, r.status(), "jvmm exits with --exec's status: " + all);
        assertTrue(all.contains("jvmm: boot 1: " + layout + " slot A v1.0.0 (priority 1, tries 0, successful)"), all);
        assertTrue(all.contains("jvmm: slot A marked successful"), all);
        assertTrue(all.contains("VERSION_ID=1.0.0"), all);
        assertTrue(all.contains("root=/dev/dm-0"), all);
        assertTrue(all.contains("Read-only file system") && all.contains("touch=1"), all);
        assertTrue(all.contains("dd=1") && all.contains("Input/output error"), all);
        assertTrue(all.contains("fenced range " + rootName(layout, "A")), all);
        assertEquals(rootBefore, sha(img, rootA.offsetBytes(), rootA.sizeBytes()), "ROOT-A's bytes on the host are unchanged");
        assertTrue(all.contains("ddB=0"), "the inactive slot stays writable: " + all);
        assertTrue(!rootBBefore.equals(sha(img, rootB.offsetBytes(), rootB.sizeBytes())), "ROOT-B took the write");
        JsonNode m = JSON.readTree(metrics.toFile());
        JsonNode disk = m.path("devices").path("disk");
        assertTrue(disk.path("fenced_writes").asLong() >= 1, m.toString());
        assertTrue(disk.path("fenced_writes/" + rootName(layout, "A")).asLong() >= 1, m.toString());
        assertEquals(1, m.path("boots").size(), m.toString());
        assertEquals("A", m.path("boots").get(0).path("slot").asText());
        assertEquals("marked", m.path("boots").get(0).path("outcome").asText(), m.toString());
        JsonNode a = slot(status(img), "A");
        assertTrue(a.get("successful").asBoolean(), a.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"bottlerocket", "cos"})
    void updateFromACompressedImageBootsTheNewSlot(String layout) throws Exception {
        Path v1 = TestImages.built(layout, "1.0.0", true);
        Path v2 = TestImages.built(layout, "2.0.0", false);
        String v1Before = sha(v1);
        Path metrics = tmp.resolve(layout + "-update.json");
        Jvmm.Result r = boot(v1.toString(), "--update-from", v2.toString(), "--metrics", metrics.toString());
        String all = r.all();
        assertEquals(0, r.status(), all);
        assertTrue(all.contains("jvmm: boot 1: " + layout + " slot A v1.0.0"), all);
        assertTrue(all.contains("jvmm: slot A marked successful"), all);
        Matcher b2 = Pattern.compile("jvmm: boot 2: " + layout + " slot B v2\\.0\\.0 \\(priority [0-9>-]+, tries 1->0").matcher(all);
        assertTrue(b2.find(), all);
        assertTrue(all.contains("jvmm: slot B marked successful"), all);
        assertEquals(v1Before, sha(v1), "the compressed image never changes");
        Matcher scratch = Pattern.compile("this boot runs on the scratch copy (\\S+) ").matcher(all);
        assertTrue(scratch.find(), all);
        JsonNode st = status(Path.of(scratch.group(1)));
        assertEquals("B", st.get("nextBoot").asText(), st.toString());
        assertTrue(slot(st, "B").get("successful").asBoolean(), st.toString());
        JsonNode boots = JSON.readTree(metrics.toFile()).path("boots");
        assertEquals(2, boots.size(), boots.toString());
        assertEquals("marked", boots.get(1).path("outcome").asText(), boots.toString());
        assertEquals(1, boots.get(1).path("tries_before").asInt(), boots.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"bottlerocket", "cos"})
    void aTamperedUpdateFallsBackWithinOneRun(String layout) throws Exception {
        Path img = TestImages.copy(layout, "1.0.0", tmp, layout + "-bad-update.img");
        Jvmm.Result up = Jvmm.run(300, "image", "upgrade", img.toString(), "--from",
                TestImages.built(layout, "2.0.0", false).toString(), "--tries", "1");
        assertEquals(0, up.status(), up.all());
        // After the write: one flipped byte in the erofs superblock of ROOT-B, which every boot reads.
        long at = part(img, rootName(layout, "B")).offsetBytes() + 1024 + 8;
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x5a);
        }
        Path metrics = tmp.resolve(layout + "-bad.json");
        Jvmm.Result r = boot(img.toString(), "--metrics", metrics.toString(), "--exec", "cat /etc/os-release");
        String all = r.all();
        assertEquals(0, r.status(), all);
        assertTrue(all.contains("jvmm: boot 1: " + layout + " slot B v2.0.0"), all);
        assertTrue(all.contains("jvmm: boot 2: " + layout + " slot A v1.0.0"), all);
        assertTrue(all.contains("VERSION_ID=1.0.0"), all);
        JsonNode boots = JSON.readTree(metrics.toFile()).path("boots");
        assertEquals(2, boots.size(), boots.toString());
        assertEquals("B", boots.get(0).path("slot").asText());
        assertTrue(boots.get(0).path("outcome").asText().matches("verity|panicked|rebooted"), boots.toString());
        assertEquals("A", boots.get(1).path("slot").asText());
        assertEquals("marked", boots.get(1).path("outcome").asText(), boots.toString());
        JsonNode b = slot(status(img), "B");
        assertEquals(0, b.get("triesLeft").asInt(), b.toString());
        assertTrue(!b.get("successful").asBoolean(), b.toString());
    }

    @org.junit.jupiter.api.Test
    void aFailedUpdateFromRollsBackWithItsOwnStatus() throws Exception {
        // v2 whose init cannot start: its root verifies, so the update is written, but the kernel panics.
        Path broken = TestImages.copy("bottlerocket", "2.0.0", tmp, "broken-v2.img");
        GptPartition bootA = part(broken, "BOTTLEROCKET-BOOT-A");
        String cfg = ImageBootRefusalsIT.readInBootA(broken, "/grub/grub.cfg");
        ImageBootRefusalsIT.replaceInBootA(broken, "/grub/grub.cfg",
                cfg.replace("init=/sbin/init", "init=/bin/false").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Path img = TestImages.copy("bottlerocket", "1.0.0", tmp, "rollback.img");
        Path metrics = tmp.resolve("rollback.json");
        Jvmm.Result r = boot(img.toString(), "--update-from", broken.toString(), "--metrics", metrics.toString());
        String all = r.all();
        assertEquals(68, r.status(), all);
        assertTrue(all.contains("jvmm: boot 2: bottlerocket slot B v2.0.0"), all);
        assertTrue(all.contains("jvmm: boot 3: bottlerocket slot A v1.0.0"), all);
        assertTrue(all.contains("jvmm: update rolled back: slot B failed (panicked)"), all);
        JsonNode boots = JSON.readTree(metrics.toFile()).path("boots");
        assertEquals(3, boots.size(), boots.toString());
        assertEquals("panicked", boots.get(1).path("outcome").asText(), boots.toString());
        assertEquals("marked", boots.get(2).path("outcome").asText(), boots.toString());
        assertTrue(bootA.sizeBytes() > 0);
        assertEquals("A", status(img).get("nextBoot").asText());
    }
}
