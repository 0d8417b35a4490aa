package dev.jvmm.images.disk;

import dev.jvmm.images.HostTools;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The Debian tools the image builder runs, and a way to run them with a clear error. */
final class Tools {
    static final List<HostTools.Requirement> NEEDS = List.of(
            new HostTools.Requirement("/usr/sbin/mkfs.ext4", "e2fsprogs"),
            new HostTools.Requirement("/usr/sbin/debugfs", "e2fsprogs"),
            new HostTools.Requirement("/usr/bin/mkfs.erofs", "erofs-utils"),
            new HostTools.Requirement("/bin/busybox", "busybox-static"),
            new HostTools.Requirement("/usr/bin/gcc", "gcc"),
            new HostTools.Requirement("/usr/lib/x86_64-linux-gnu/libc.a", "libc6-dev"));

    private Tools() {}

    static String run(Path dir, Map<String, String> env, String... argv) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException(argv[0] + " failed: " + out.trim().replace('\n', ' '));
        }
        return out;
    }
}
