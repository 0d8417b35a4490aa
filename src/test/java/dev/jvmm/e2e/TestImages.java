package dev.jvmm.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Container-OS images for the end-to-end tests, built once per packaged jar with `jvmm image
 * build` (reproducible, so sharing them between test classes changes nothing) and copied for each
 * test that writes to one.
 */
final class TestImages {
    private TestImages() {}

    static Path built(String layout, String version, boolean lz4) throws IOException, InterruptedException {
        Path jar = Jvmm.jar();
        Path dir = Path.of("target", "it-images", Files.size(jar) + "-" + Files.getLastModifiedTime(jar).toMillis());
        Files.createDirectories(dir);
        Path out = dir.resolve(layout + "-" + version + (lz4 ? ".img.lz4" : ".img"));
        synchronized (TestImages.class) {
            if (!Files.isRegularFile(out)) {
                Path partial = dir.resolve(out.getFileName() + ".partial" + (lz4 ? ".lz4" : ""));
                Jvmm.Result r = Jvmm.run(900, lz4 ? new String[] {"image", "build", "--layout", layout, "--version", version,
                        "--lz4", "--out", partial.toString()}
                        : new String[] {"image", "build", "--layout", layout, "--version", version, "--out", partial.toString()});
                if (r.status() != 0) {
                    throw new AssertionError("image build failed: " + r.all());
                }
                Files.move(partial, out, StandardCopyOption.ATOMIC_MOVE);
            }
        }
        return out;
    }

    /** A writable copy of a built image. */
    static Path copy(String layout, String version, Path dir, String name) throws IOException, InterruptedException {
        Path copy = dir.resolve(name);
        Files.copy(built(layout, version, false), copy, StandardCopyOption.REPLACE_EXISTING);
        return copy;
    }
}
