package dev.jvmm.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Container-OS images for the end-to-end tests, built once per packaged jar with `jvmm image
 * build` (reproducible, so sharing them between test classes changes nothing) and copied for each
 * test that writes to one.
 */
final class TestImages {
    private TestImages() {}

    static Path built(String layout, String version, boolean lz4) throws IOException, InterruptedException {
        return built(layout, version, lz4, "x86_64");
    }

    /** As {@link #built(String, String, boolean)}, for {@code arch} (x86_64 or aarch64: `jvmm image build --arch`). */
    static Path built(String layout, String version, boolean lz4, String arch) throws IOException, InterruptedException {
        Path jar = Jvmm.jar();
        Path dir = Path.of("target", "it-images", Files.size(jar) + "-" + Files.getLastModifiedTime(jar).toMillis());
        Files.createDirectories(dir);
        String name = (arch.equals("x86_64") ? "" : arch + "-") + layout + "-" + version;
        Path out = dir.resolve(name + (lz4 ? ".img.lz4" : ".img"));
        synchronized (TestImages.class) {
            if (!Files.isRegularFile(out)) {
                Path partial = dir.resolve(out.getFileName() + ".partial" + (lz4 ? ".lz4" : ""));
                List<String> args = new ArrayList<>(List.of("image", "build", "--layout", layout, "--version", version,
                        "--arch", arch, "--out", partial.toString()));
                if (lz4) {
                    args.add("--lz4");
                }
                Jvmm.Result r = Jvmm.run(900, args.toArray(new String[0]));
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
        return copy(layout, version, dir, name, "x86_64");
    }

    /** A writable copy of a built image of {@code arch}. */
    static Path copy(String layout, String version, Path dir, String name, String arch) throws IOException,
            InterruptedException {
        Path copy = dir.resolve(name);
        Files.copy(built(layout, version, false, arch), copy, StandardCopyOption.REPLACE_EXISTING);
        return copy;
    }
}
