package dev.jvmm.images.kernel;

import dev.jvmm.images.Cache;
import dev.jvmm.images.Hashing;
import dev.jvmm.images.HostTools;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * jvmm's minimal guest kernel: Debian's linux-source-6.1, `make tinyconfig`, the checked-in
 * fragment merged in, built once and cached under a key of source version, fragment and script.
 */
public final class KernelBuilder {
    public static final String SOURCE_PACKAGE = "linux-source-6.1";
    public static final Path SOURCE_TARBALL = Path.of("/usr/src/linux-source-6.1.tar.xz");
    private static final String RESOURCES = "/dev/jvmm/images/kernel/";

    /** A built kernel: both images and the final .config. */
    public record Built(Path vmlinux, Path bzImage, Path config, boolean fromCache) {}

    static final List<HostTools.Requirement> NEEDS = List.of(
            new HostTools.Requirement(SOURCE_TARBALL.toString(), SOURCE_PACKAGE),
            new HostTools.Requirement("/usr/bin/make", "make"),
            new HostTools.Requirement("/usr/bin/gcc", "gcc"),
            new HostTools.Requirement("/usr/bin/flex", "flex"),
            new HostTools.Requirement("/usr/bin/bison", "bison"),
            new HostTools.Requirement("/usr/bin/bc", "bc"),
            new HostTools.Requirement("/usr/include/libelf.h", "libelf-dev"),
            new HostTools.Requirement("/usr/include/openssl/ssl.h", "libssl-dev"),
            new HostTools.Requirement("/usr/bin/xz", "xz-utils"),
            new HostTools.Requirement("/usr/bin/perl", "perl"));

    private final String arch;

    public KernelBuilder(String arch) {
        if (!arch.equals("x86_64")) {
            throw new IllegalArgumentException("kernel recipes exist for x86_64 only, not " + arch);
        }
        this.arch = arch;
    }

    public static byte[] resource(String name) {
        try (InputStream in = KernelBuilder.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public byte[] fragment() {
        return resource(arch + ".config");
    }

    /** The Debian version of the kernel source, or the tarball's size and time where dpkg cannot say. */
    static String sourceVersion() throws IOException {
        String v = HostTools.output("dpkg-query", "-W", "-f=${Version}", SOURCE_PACKAGE);
        if (v != null && !v.isEmpty()) {
            return v;
        }
        return Files.size(SOURCE_TARBALL) + "@" + Files.getLastModifiedTime(SOURCE_TARBALL).toMillis();
    }

    public Path cacheDir() throws IOException {
        String key = Hashing.key(sourceVersion(), arch, fragment(), resource("build-kernel.sh"));
        return Cache.dir("kernel").resolve(arch + "-" + key);
    }

    /** The cached kernel, or null if it has not been built. */
    public Built cached() throws IOException {
        if (!Files.exists(SOURCE_TARBALL)) {
            return null;
        }
        Path dir = cacheDir();
        Built b = new Built(dir.resolve("vmlinux"), dir.resolve("bzImage"), dir.resolve("config"), true);
        return Files.isRegularFile(b.vmlinux()) && Files.isRegularFile(b.bzImage()) && Files.isRegularFile(b.config())
                ? b : null;
    }

    /** Builds (with progress on stderr) unless cached; one build at a time per cache. */
    public Built buildOrReuse() throws IOException, InterruptedException {
        HostTools.ensure("the guest kernel build", NEEDS);
        Built b = cached();
        if (b != null) {
            return b;
        }
        Path dir = cacheDir();
        Files.createDirectories(dir.getParent());
        try (FileChannel lockFile = FileChannel.open(dir.getParent().resolve(dir.getFileName() + ".lock"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = lockFile.lock()) {
            b = cached();
            if (b != null) {
                return b;
            }
            Path tmp = Files.createTempDirectory("jvmm-kernel");
            try {
                Path script = tmp.resolve("build-kernel.sh");
                Path fragment = tmp.resolve(arch + ".config");
                Files.write(script, resource("build-kernel.sh"));
                Files.write(fragment, fragment());
                Path staging = dir.resolveSibling(dir.getFileName() + ".partial");
                HostTools.deleteTree(staging);
                System.err.println("[jvmm] building the guest kernel (" + arch + ") into " + dir);
                Process p = new ProcessBuilder("sh", script.toString(), SOURCE_TARBALL.toString(), fragment.toString(),
                        staging.toString(), arch).redirectOutput(ProcessBuilder.Redirect.INHERIT)
                        .redirectError(ProcessBuilder.Redirect.INHERIT).redirectInput(ProcessBuilder.Redirect.PIPE)
                        .start();
                p.getOutputStream().close();
                int rc = p.waitFor();
                if (rc != 0) {
                    throw new IOException("guest kernel build failed with status " + rc);
                }
                Files.move(staging, dir);
            } finally {
                HostTools.deleteTree(tmp);
            }
        }
        b = cached();
        if (b == null) {
            throw new IOException("kernel build finished but " + dir + " lacks vmlinux, bzImage or config");
        }
        return new Built(b.vmlinux(), b.bzImage(), b.config(), false);
    }
}
