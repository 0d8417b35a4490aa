package dev.jvmm.e2e;

import dev.jvmm.boot.gpt.Gpt;
import dev.jvmm.boot.gpt.GptPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs an image's root file system under jvmm's kernel before virtio-blk exists: an initramfs
 * carries ROOT-A's erofs, loop-mounts it read-only and switches to its /sbin/init, which must
 * mount what it needs, run its container and report ready.
 */
class ImageRootfsIT {
    @TempDir
    Path tmp;

    @Test
    void theImagesInitRunsItsContainerAndReportsReady() throws Exception {
        Path img = tmp.resolve("br.img");
        assertEquals(0, Jvmm.run(600, "image", "build", "--version", "3.1.4", "--out", img.toString()).status());
        GptPartition root;
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ)) {
            root = Gpt.read(ch).byName("BOTTLEROCKET-ROOT-A").orElseThrow();
        }
        Path rootImg = Jvmm.extract(img, root, tmp.resolve("root-a.erofs"));
        // jvmm initramfs takes one script; the erofs image rides in the same archive through a second cpio.
        Path initramfs = Jvmm.initramfs(tmp, "switch", Jvmm.INIT_PRELUDE + """
                mkdir -p /newroot
                mount -t erofs -o loop,ro /root.erofs /newroot || { echo "erofs mount failed"; jvmm_exit 9; }
                umount /proc /sys
                mount --move /dev /newroot/dev
                exec switch_root /newroot /sbin/init
                """);
        Path combined = tmp.resolve("combined.cpio");
        dev.jvmm.images.initramfs.Initramfs extra = new dev.jvmm.images.initramfs.Initramfs()
                .fileFrom("root.erofs", rootImg, 0644);
        try (var out = java.nio.file.Files.newOutputStream(combined)) {
            java.nio.file.Files.copy(initramfs, out); // gzip'd cpio; the kernel unpacks concatenated archives
            extra.writeTo(out, true);
        }
        Path[] k = Jvmm.kernel();
        Jvmm.Result r = Jvmm.run(600, "boot", "--kernel", k[1].toString(), "--initrd", combined.toString(),
                "--append", "jvmm.exit_when_ready=1", "--mem", "256", "--timeout", "300");
        assertEquals(0, r.status(), r.all());
        assertTrue(r.out().contains("container: hello, pid 1, sees pids 1 "),
                "the container has its own UTS and PID namespaces: " + r.out());
        assertTrue(r.out().contains("jvmm-os: jvmm container OS 3.1.4 (bottlerocket layout) ready"), r.out());
        assertTrue(r.out().contains("DATA not found; /local is not persistent"), "no disk yet: " + r.out());
    }
}
