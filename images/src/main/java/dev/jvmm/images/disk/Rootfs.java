package dev.jvmm.images.disk;

import dev.jvmm.images.HostTools;

import dev.jvmm.images.Cache;
import dev.jvmm.images.GuestPlatform;
import dev.jvmm.images.Hashing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

/**
 * The container OS's root file system: Debian's static busybox with its applets as links, an
 * init that mounts the writable data partition and overlays /etc, one container in its own
 * namespaces, the vsock agent, and /etc/os-release naming the version.
 */
public final class Rootfs {
    private static final String RES = "/dev/jvmm/images/rootfs/";

    private Rootfs() {}

    static String resource(String name) {
        try (InputStream in = Rootfs.class.getResourceAsStream(RES + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("missing resource " + name, e);
        }
    }

    /** The agent for {@code arch}, compiled static once per source and compiler and cached. */
    static Path agent(ImageArch arch) throws IOException, InterruptedException {
        String src = resource("jvmm-agent.c");
        // x86_64's key is what it was before there were two architectures: its cached agent stays valid.
        String flavour = arch.name().equals("x86_64") ? "gcc-static-Os" : arch.compiler() + "-static-Os";
        Path dir = Cache.dir("agent").resolve(Hashing.key(src, flavour));
        Path bin = dir.resolve("jvmm-agent");
        if (Files.isExecutable(bin)) {
            return bin;
        }
        Files.createDirectories(dir);
        Path c = dir.resolve("jvmm-agent.c");
        Files.writeString(c, src);
        Path tmp = dir.resolve("jvmm-agent.partial");
        HostTools.run(dir, Map.of(), arch.compiler(), "-static", "-Os", "-s", "-o", tmp.toString(), c.toString());
        Files.move(tmp, bin, StandardCopyOption.ATOMIC_MOVE);
        return bin;
    }

    private static void exec(Path p) throws IOException {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static void busybox(Path root, ImageArch arch) throws IOException, InterruptedException {
        Path bin = Files.createDirectories(root.resolve("bin"));
        Files.copy(arch.busybox(), bin.resolve("busybox"), StandardCopyOption.REPLACE_EXISTING);
        exec(bin.resolve("busybox"));
        for (String applet : BusyboxApplets.of(arch.busybox(), arch.runsHere())) {
            if (!applet.equals("busybox")) {
                Path link = bin.resolve(applet);
                if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.createSymbolicLink(link, Path.of("busybox"));
                }
            }
        }
    }

    /** The image's /sbin/init for {@code layout} and {@code version}. */
    static String init(Layout layout, String version) {
        return resource("init.sh").replace("@LAYOUT@", layout.cliName()).replace("@VERSION@", version)
                .replace("@DATA_LABEL@", layout.dataLabel()).replace("@DATA_MOUNT@", layout.dataMount())
                .replace("@PLATFORM@\n", GuestPlatform.SHELL);
    }

    /** Stages the root tree under {@code root} for {@code layout}, {@code version} and {@code arch}. */
    public static void stage(Path root, Layout layout, String version, ImageArch arch) throws IOException, InterruptedException {
        busybox(root, arch);
        for (String d : List.of("sbin", "usr/bin", "proc", "sys", "dev", "tmp", "run", "root", "mnt", "etc",
                layout.dataMount().substring(1), "containers/hello/proc", "containers/hello/dev", "containers/hello/tmp")) {
            Files.createDirectories(root.resolve(d));
        }
        Files.writeString(root.resolve("sbin/init"), init(layout, version));
        exec(root.resolve("sbin/init"));
        Files.writeString(root.resolve("etc/os-release"), """
                NAME="jvmm container OS"
                ID=jvmm-os
                VARIANT_ID=%s
                VERSION_ID=%s
                PRETTY_NAME="jvmm container OS %s (%s layout)"
                """.formatted(layout.cliName(), version, version, layout.cliName()));
        Files.writeString(root.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        Files.writeString(root.resolve("etc/group"), "root:x:0:\n");
        Files.writeString(root.resolve("etc/hostname"), "jvmm-os\n");
        Files.copy(agent(arch), root.resolve("usr/bin/jvmm-agent"), StandardCopyOption.REPLACE_EXISTING);
        exec(root.resolve("usr/bin/jvmm-agent"));
        // The container's own root: a second busybox, nothing shared with the host but the kernel.
        Path c = root.resolve("containers/hello");
        Files.createDirectories(c.resolve("bin"));
        Files.copy(arch.busybox(), c.resolve("bin/busybox"), StandardCopyOption.REPLACE_EXISTING);
        exec(c.resolve("bin/busybox"));
        for (String a : List.of("sh", "mount", "hostname", "ls", "grep", "echo", "cat", "ps")) {
            Files.createSymbolicLink(c.resolve("bin/" + a), Path.of("busybox"));
        }
    }

}
