package dev.jvmm.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the packaged jvmm as a user would, in its own process, and captures what it prints. */
final class Jvmm {
    record Result(int status, String out, String err, long millis) {
        String all() {
            return out + err;
        }
    }

    private Jvmm() {}

    static Path jar() {
        Path jar = Path.of(System.getProperty("jvmm.jar", "target/jvmm.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("packaged jar missing: " + jar + " (run mvn verify)");
        }
        return jar;
    }

    static Result run(long timeoutSeconds, String... args) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar().toString()));
        argv.addAll(List.of(args));
        Path out = Files.createTempFile("jvmm-out", ".txt");
        Path err = Files.createTempFile("jvmm-err", ".txt");
        try {
            long start = System.nanoTime();
            Process p = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.PIPE)
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            p.getOutputStream().close();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor();
                throw new AssertionError("jvmm " + String.join(" ", args) + " did not finish in " + timeoutSeconds
                        + " s; output:\n" + Files.readString(out, StandardCharsets.ISO_8859_1)
                        + Files.readString(err, StandardCharsets.ISO_8859_1));
            }
            long ms = (System.nanoTime() - start) / 1_000_000;
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.ISO_8859_1),
                    Files.readString(err, StandardCharsets.ISO_8859_1), ms);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** jvmm kernel build's two lines. */
    static Path[] kernel() throws IOException, InterruptedException {
        Result r = run(3600, "kernel", "build");
        if (r.status() != 0) {
            throw new AssertionError("kernel build failed: " + r.all());
        }
        Path vmlinux = null;
        Path bzImage = null;
        for (String line : r.out().split("\n")) {
            if (line.startsWith("vmlinux ")) {
                vmlinux = Path.of(line.substring(8).trim());
            } else if (line.startsWith("bzImage ")) {
                bzImage = Path.of(line.substring(8).trim());
            }
        }
        return new Path[] {vmlinux, bzImage};
    }

    /** jvmm kernel build --arch aarch64's Image (cross-compiled, so long the first time). */
    static Path arm64Image() throws IOException, InterruptedException {
        Result r = run(3 * 3600, "kernel", "build", "--arch", "aarch64");
        for (String line : r.out().split("\n")) {
            if (r.status() == 0 && line.startsWith("Image ")) {
                return Path.of(line.substring(6).trim());
            }
        }
        throw new AssertionError("arm64 kernel build failed: " + r.all());
    }

    /** A busybox initramfs whose /init is {@code script}, built with jvmm initramfs. */
    static Path initramfs(Path dir, String name, String script) throws IOException, InterruptedException {
        return initramfs(dir, name, script, "x86_64");
    }

    /** As {@link #initramfs(Path, String, String)}, with the busybox of {@code arch} (x86_64 or aarch64). */
    static Path initramfs(Path dir, String name, String script, String arch) throws IOException, InterruptedException {
        Path init = dir.resolve(name + ".sh");
        Files.writeString(init, script);
        Path out = dir.resolve(name + ".cpio.gz");
        Result r = run(600, "initramfs", "--init", init.toString(), "--out", out.toString(), "--arch", arch);
        if (r.status() != 0) {
            throw new AssertionError("initramfs failed: " + r.all());
        }
        return out;
    }

    /**
     * A busybox initramfs whose /init is {@code script}, with the static guest-probe test helper
     * (src/test/resources/guest/guest-probe.c) as /bin/guest-probe.
     */
    static Path initramfsWithProbe(Path dir, String name, String script) throws IOException, InterruptedException {
        Path probe = dir.resolve("guest-probe");
        if (!Files.exists(probe)) {
            Path src = dir.resolve("guest-probe.c");
            try (var in = Jvmm.class.getResourceAsStream("/guest/guest-probe.c")) {
                Files.copy(in, src);
            }
            Process cc = new ProcessBuilder("gcc", "-static", "-O2", "-o", probe.toString(), src.toString())
                    .redirectErrorStream(true).start();
            String out = new String(cc.getInputStream().readAllBytes());
            if (cc.waitFor() != 0) {
                throw new AssertionError("gcc guest-probe.c failed: " + out);
            }
        }
        var fs = dev.jvmm.images.initramfs.BusyboxInitramfs.create(script);
        fs.fileFrom("bin/guest-probe", probe, 0755);
        Path out = dir.resolve(name + ".cpio.gz");
        try (var o = Files.newOutputStream(out)) {
            fs.writeTo(o, true);
        }
        return out;
    }

    /**
     * The start of a test init: mounts, so that /dev/mem and /proc work, and the platform page
     * where jvmm's command line puts it: {@code jvmm_ready} and {@code jvmm_exit N} on either
     * architecture.
     */
    static final String INIT_PRELUDE = """
            #!/bin/sh
            /bin/busybox --install -s /bin
            mount -t proc proc /proc
            mount -t sysfs sysfs /sys
            mount -t devtmpfs devtmpfs /dev
            """ + dev.jvmm.images.GuestPlatform.SHELL;

    /** Copies one partition of a disk image out to {@code out}. */
    static Path extract(Path img, dev.jvmm.boot.gpt.GptPartition p, Path out) throws IOException {
        try (java.nio.channels.FileChannel in = java.nio.channels.FileChannel.open(img, java.nio.file.StandardOpenOption.READ);
             java.nio.channels.FileChannel o = java.nio.channels.FileChannel.open(out, java.nio.file.StandardOpenOption.CREATE,
                     java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
            long n = 0;
            while (n < p.sizeBytes()) {
                n += in.transferTo(p.offsetBytes() + n, p.sizeBytes() - n, o);
            }
        }
        return out;
    }
}
