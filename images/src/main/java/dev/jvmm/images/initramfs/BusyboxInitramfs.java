package dev.jvmm.images.initramfs;

import dev.jvmm.images.Cache;
import dev.jvmm.images.GuestPlatform;
import dev.jvmm.images.Hashing;
import dev.jvmm.images.HostTools;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The guest userland: Debian's static busybox and an init script. The default init mounts
 * the usual file systems, writes the boot-timer byte and gives a shell on the console.
 */
public final class BusyboxInitramfs {
    public static final Path BUSYBOX = Path.of("/bin/busybox");
    static final List<HostTools.Requirement> NEEDS = List.of(
            new HostTools.Requirement("/bin/busybox", "busybox-static"));

    private BusyboxInitramfs() {}

    public static String defaultInit() {
        try (InputStream in = BusyboxInitramfs.class.getResourceAsStream("/dev/jvmm/images/initramfs/init.sh")) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).replace("@PLATFORM@\n",
                    GuestPlatform.SHELL);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Checks that the host's busybox is the static one: a dynamic busybox cannot run in the guest. */
    static void checkStatic(Path busybox) throws IOException {
        byte[] head = new byte[4096];
        try (InputStream in = Files.newInputStream(busybox)) {
            int n = in.readNBytes(head, 0, head.length);
            String s = new String(head, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1);
            if (s.contains("/lib64/ld-linux") || s.contains("/lib/ld-linux")) {
                throw new IOException(busybox + " is dynamically linked; install busybox-static");
            }
        }
    }

    /** An initramfs with the host's busybox and {@code init} as /init. */
    public static Initramfs create(String init) throws IOException {
        return create(init, BUSYBOX);
    }

    /**
     * An initramfs with {@code busybox} (a static one, of the guest's architecture: Debian's
     * busybox-static:arm64 for an aarch64 guest) and {@code init} as /init.
     */
    public static Initramfs create(String init, Path busybox) throws IOException {
        checkStatic(busybox);
        Initramfs fs = new Initramfs();
        for (String d : List.of("bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", "etc", "root", "mnt",
                "run", "var")) {
            fs.dir(d);
        }
        fs.charDevice("dev/console", 5, 1);
        fs.charDevice("dev/null", 1, 3);
        // The kernel log, writable by the init's first (builtin) echo before any mount: a line
        // written at a level the console shows marks "init started" with the kernel's timestamp
        // even under quiet or loglevel=, which hide the kernel's own "Run /init" (KERN_INFO).
        fs.charDevice("dev/kmsg", 1, 11);
        fs.fileFrom("bin/busybox", busybox, 0755);
        fs.symlink("bin/sh", "busybox");
        fs.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0644);
        fs.file("etc/group", "root:x:0:\n", 0644);
        fs.file("init", init, 0755);
        return fs;
    }

    /** Builds (or reuses) the gzip'd initramfs for {@code init} in the cache; returns its path. */
    public static Path buildCached(String init) throws IOException, InterruptedException {
        HostTools.ensure("the guest initramfs", NEEDS);
        String key = Hashing.key(Files.size(BUSYBOX), Files.getLastModifiedTime(BUSYBOX).toMillis(), init, "v2");
        Path out = Cache.dir("initramfs").resolve("busybox-" + key + ".cpio.gz");
        if (Files.isRegularFile(out)) {
            return out;
        }
        Files.createDirectories(out.getParent());
        Path tmp = Files.createTempFile(out.getParent(), "initramfs", ".tmp");
        try (OutputStream o = Files.newOutputStream(tmp)) {
            create(init).writeTo(o, true);
        }
        Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return out;
    }
}
