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
 * x86_64 is built natively (bzImage); aarch64 is cross-compiled with Debian's
 * gcc-aarch64-linux-gnu (Image), by a script of its own so the x86 cache key stays as it was.
 */
public final class KernelBuilder {
    public static final String SOURCE_PACKAGE = "linux-source-6.1";
    public static final Path SOURCE_TARBALL = Path.of("/usr/src/linux-source-6.1.tar.xz");
    private static final String RESOURCES = "/dev/jvmm/images/kernel/";

    /**
     * A built kernel: the ELF vmlinux, the boot image (x86_64: bzImage; aarch64: the arm64
     * Image) named by {@code imageName}, and the final .config.
     */
    public record Built(String arch, Path vmlinux, Path image, Path config, boolean fromCache) {
        /** The file name and the word `jvmm kernel build` prints before its path: bzImage or Image. */
        public String imageName() {
            return bootImageName(arch);
        }

        /** The x86_64 bzImage; an aarch64 kernel has none. */
        public Path bzImage() {
            if (!arch.equals("x86_64")) {
                throw new IllegalStateException(arch + " kernels have no bzImage; use image() (" + imageName() + ")");
            }
            return image;
        }
    }

    /** The architectures with a recipe (a fragment and a build script). */
    public static final List<String> ARCHES = List.of("x86_64", "aarch64");

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

    /** What the aarch64 cross-build needs besides {@link #NEEDS}. */
    static final List<HostTools.Requirement> CROSS_NEEDS = List.of(
            new HostTools.Requirement("/usr/bin/aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"));

    private final String arch;

    public KernelBuilder(String arch) {
        if (!ARCHES.contains(arch)) {
            throw new IllegalArgumentException("kernel recipes exist for " + String.join(" and ", ARCHES) + " only, not "
                    + arch);
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

    /** bzImage for x86_64, Image for aarch64. */
    static String bootImageName(String arch) {
        return arch.equals("x86_64") ? "bzImage" : "Image";
    }

    /** The build script's resource name: x86_64 keeps the original script (and so its cache key). */
    String scriptName() {
        return arch.equals("x86_64") ? "build-kernel.sh" : "build-kernel-" + arch + ".sh";
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
        String key = Hashing.key(sourceVersion(), arch, fragment(), resource(scriptName()));
        return Cache.dir("kernel").resolve(arch + "-" + key);
    }

    /** The cached kernel, or null if it has not been built. */
    public Built cached() throws IOException {
        if (!Files.exists(SOURCE_TARBALL)) {
            return null;
        }
        Path dir = cacheDir();
        Built b = new Built(arch, dir.resolve("vmlinux"), dir.resolve(bootImageName(arch)), dir.resolve("config"), true);
        return Files.isRegularFile(b.vmlinux()) && Files.isRegularFile(b.image()) && Files.isRegularFile(b.config())
                ? b : null;
    }

    /** Builds (with progress on stderr) unless cached; one build at a time per cache. */
    public Built buildOrReuse() throws IOException, InterruptedException {
        HostTools.ensure("the guest kernel build", NEEDS);
        if (!arch.equals("x86_64")) {
            HostTools.ensure("the " + arch + " guest kernel cross-build", CROSS_NEEDS);
        }
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
                Path script = tmp.resolve(scriptName());
                Path fragment = tmp.resolve(arch + ".config");
                Files.write(script, resource(scriptName()));
                Files.write(fragment, fragment());
                Path staging = dir.resolveSibling(dir.getFileName() + ".partial");
                HostTools.deleteTree(staging);
                System.err.println("[jvmm] building the guest kernel (" + arch + ") into " + dir);
                // The x86_64 script takes the arch as a fourth argument; the aarch64 one is arm64 only.
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
            throw new IOException("kernel build finished but " + dir + " lacks vmlinux, " + bootImageName(arch)
                    + " or config");
        }
        return new Built(arch, b.vmlinux(), b.image(), b.config(), false);
    }
}
