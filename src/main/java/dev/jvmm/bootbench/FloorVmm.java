package dev.jvmm.bootbench;

import dev.jvmm.images.Cache;
import dev.jvmm.images.Hashing;
import dev.jvmm.images.HostTools;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The C floor of the boot bench (floorvmm.c, kept beside this class): compiled once per source
 * and compiler into jvmm's cache, statically, so that it runs inside the lab's L1 as it is.
 */
public final class FloorVmm {
    static final String SOURCE = "/dev/jvmm/bootbench/floorvmm.c";
    static final List<String> FLAGS = List.of("-O2", "-static", "-Wall", "-Wextra", "-Werror");
    static final List<HostTools.Requirement> NEEDS = List.of(
            new HostTools.Requirement("/usr/bin/gcc", "gcc"),
            new HostTools.Requirement("/usr/include/linux/kvm.h", "linux-libc-dev"),
            new HostTools.Requirement("/usr/lib/x86_64-linux-gnu/libc.a", "libc6-dev"));

    private FloorVmm() {}

    public static byte[] source() throws IOException {
        try (InputStream in = FloorVmm.class.getResourceAsStream(SOURCE)) {
            if (in == null) {
                throw new IOException("floorvmm.c is missing from jvmm's jar (" + SOURCE + ")");
            }
            return in.readAllBytes();
        }
    }

    /** The floor's binary in the cache, compiled now if this source and gcc have not been yet. */
    public static Path buildCached() throws IOException, InterruptedException {
        HostTools.ensure("the boot bench's C floor", NEEDS);
        byte[] src = source();
        String gcc = HostTools.output("gcc", "--version");
        if (gcc == null) {
            throw new IOException("gcc --version failed");
        }
        Path out = Cache.dir("bootbench").resolve("floorvmm-" + Hashing.key(src, gcc.lines().findFirst().orElse(""),
                String.join(" ", FLAGS), "v1"));
        if (Files.isExecutable(out)) {
            return out;
        }
        Files.createDirectories(out.getParent());
        Path dir = Files.createTempDirectory(out.getParent(), "floorvmm");
        try {
            Path c = dir.resolve("floorvmm.c");
            Files.write(c, src);
            compile(c, dir.resolve("floorvmm"));
            Files.move(dir.resolve("floorvmm"), out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return out;
        } finally {
            HostTools.deleteTree(dir);
        }
    }

    /** gcc with the floor's flags; warnings are errors, and the compiler's words come back in the exception. */
    static void compile(Path source, Path binary) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of("gcc"));
        argv.addAll(FLAGS);
        argv.addAll(List.of("-o", binary.toString(), source.toString()));
        HostTools.run(source.getParent(), Map.of(), argv.toArray(String[]::new));
    }
}
