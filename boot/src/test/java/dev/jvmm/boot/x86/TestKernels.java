package dev.jvmm.boot.x86;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;

/** Finds the guest kernel jvmm built (./jvmm kernel build), so loader tests use a real one. */
final class TestKernels {
    private TestKernels() {}

    static Path cacheRoot() {
        String explicit = System.getenv("JVMM_CACHE");
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        return (xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache"))
                .resolve("jvmm");
    }

    static Path dir() {
        Path kernels = cacheRoot().resolve("kernel");
        Optional<Path> newest = Optional.empty();
        if (Files.isDirectory(kernels)) {
            try (var s = Files.list(kernels)) {
                newest = s.filter(p -> p.getFileName().toString().startsWith("x86_64-"))
                        .filter(p -> Files.isRegularFile(p.resolve("vmlinux")) && Files.isRegularFile(p.resolve("bzImage")))
                        .max(Comparator.comparing(p -> p.toFile().lastModified()));
            } catch (IOException e) {
                newest = Optional.empty();
            }
        }
        Assumptions.assumeTrue(newest.isPresent(), "no built guest kernel under " + kernels
                + "; run ./jvmm kernel build (.ci/run does) to test the loaders on a real kernel");
        return newest.get();
    }

    static byte[] vmlinux() throws IOException {
        return Files.readAllBytes(dir().resolve("vmlinux"));
    }

    static byte[] bzImage() throws IOException {
        return Files.readAllBytes(dir().resolve("bzImage"));
    }
}
