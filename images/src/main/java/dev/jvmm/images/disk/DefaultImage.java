package dev.jvmm.images.disk;

import dev.jvmm.boot.gpt.GptException;
import dev.jvmm.images.Cache;
import dev.jvmm.images.GuestPlatform;
import dev.jvmm.images.Hashing;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The image `jvmm boot` boots when given nothing: a Bottlerocket-layout image of jvmm's own
 * kernel and root file system for the host's architecture, built once and cached, keyed by
 * everything it is made of.
 */
public final class DefaultImage {
    public static final String VERSION = "1.0.0";
    /** Bumped when the builder's output changes for the same inputs. */
    static final String FORMAT = "v1";

    private DefaultImage() {}

    public static Path buildOrReuse(PrintStream progress) throws IOException, InterruptedException, GptException {
        ImageArch arch = ImageArch.host();
        Path kernel = arch.kernel(Layout.BOTTLEROCKET);
        String key = Hashing.key(Files.readAllBytes(kernel), Rootfs.resource("init.sh"), GuestPlatform.SHELL,
                Rootfs.resource("jvmm-agent.c"), Layout.BOTTLEROCKET.cliName(), VERSION, FORMAT);
        Path dir = Files.createDirectories(Cache.dir("images"));
        // x86_64's name as before; another host's default image is of its own architecture.
        String name = arch.name().equals("x86_64") ? "default-bottlerocket-" : "default-bottlerocket-" + arch.name() + "-";
        Path image = dir.resolve(name + key + ".img");
        if (!Files.isRegularFile(image)) {
            progress.println("[jvmm] building the default image (Bottlerocket layout, once): " + image);
            new ImageBuilder(Layout.BOTTLEROCKET, VERSION, arch, progress).build(image, false);
        }
        return image;
    }
}
