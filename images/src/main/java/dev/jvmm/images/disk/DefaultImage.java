package dev.jvmm.images.disk;

import dev.jvmm.boot.gpt.GptException;
import dev.jvmm.images.Cache;
import dev.jvmm.images.Hashing;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The image `jvmm boot` boots when given nothing: a Bottlerocket-layout image of jvmm's own
 * kernel and root file system, built once and cached, keyed by everything it is made of.
 */
public final class DefaultImage {
    public static final String VERSION = "1.0.0";
    /** Bumped when the builder's output changes for the same inputs. */
    static final String FORMAT = "v1";

    private DefaultImage() {}

    public static Path buildOrReuse(PrintStream progress) throws IOException, InterruptedException, GptException {
        Path kernel = Rootfs.kernel();
        String key = Hashing.key(Files.readAllBytes(kernel), Rootfs.resource("init.sh"), Rootfs.resource("jvmm-agent.c"),
                Layout.BOTTLEROCKET.cliName(), VERSION, FORMAT);
        Path dir = Files.createDirectories(Cache.dir("images"));
        Path image = dir.resolve("default-bottlerocket-" + key + ".img");
        if (!Files.isRegularFile(image)) {
            progress.println("[jvmm] building the default image (Bottlerocket layout, once): " + image);
            new ImageBuilder(Layout.BOTTLEROCKET, VERSION, progress).build(image, false);
        }
        return image;
    }
}
