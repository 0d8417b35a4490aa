package dev.jvmm.smoke;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jvmm.machine.ExitCodes;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * One image's smoke boot: a `jvmm boot` process of its own on a scratch copy of the image (an
 * .img.lz4 is never written: jvmm boots its own scratch copy of it), with --exec (default
 * `true`) so the boot ends once the guest is ready and marked, and --metrics to learn how each
 * firmware pass ended. The child's output is kept in a file and read back, capped.
 */
final class SmokeBoot {
    /** The console log kept for a report; a boot that prints more keeps its last part. */
    static final int MAX_LOG = 1 << 20;

    private SmokeBoot() {}

    static SmokeResult run(Path image, SmokePlan plan) {
        long start = System.nanoTime();
        String name = image.getFileName().toString();
        Path dir = null;
        try {
            dir = Files.createTempDirectory(plan.workDir(), "smoke-");
            Path disk = image;
            if (!plan.inPlace() && !name.endsWith(".lz4")) {
                disk = dir.resolve(name);
                Files.copy(image, disk, StandardCopyOption.COPY_ATTRIBUTES);
            }
            Path metrics = dir.resolve("metrics.json");
            Path log = dir.resolve("console.log");
            List<String> argv = new ArrayList<>(plan.command());
            argv.addAll(List.of("boot", disk.toString(), "--timeout", Integer.toString(plan.timeoutSeconds()),
                    "--metrics", metrics.toString(), "--exec", plan.exec()));
            argv.addAll(plan.extra());
            Process p = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(log.toFile()).redirectErrorStream(true).start();
            // jvmm enforces --timeout per pass itself; this only guards against a child that hangs.
            long guard = (long) plan.timeoutSeconds() * 8 + 600;
            if (!p.waitFor(guard, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor();
            }
            String text = tail(log);
            long wall = (System.nanoTime() - start) / 1_000_000;
            return judge(name, p.exitValue(), text, Files.isRegularFile(metrics) ? Files.readString(metrics) : null,
                    plan.expect(), plan.exec(), wall);
        } catch (IOException e) {
            return new SmokeResult(name, false, "could not run jvmm boot: " + e.getMessage(), null, null, null,
                    (System.nanoTime() - start) / 1_000_000, ExitCodes.INTERNAL_ERROR, "");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new SmokeResult(name, false, "interrupted", null, null, null, (System.nanoTime() - start) / 1_000_000,
                    ExitCodes.USER_QUIT, "");
        } finally {
            deleteQuietly(dir);
        }
    }

    /** PASS or FAIL from the boot's status, its metrics and its console. */
    static SmokeResult judge(String name, int status, String log, String metricsJson, Pattern expect, String exec, long wallMs) {
        String slot = null;
        String version = null;
        Long readyMs = null;
        boolean marked = false;
        List<String> outcomes = new ArrayList<>();
        if (metricsJson != null) {
            try {
                for (JsonNode b : new ObjectMapper().readTree(metricsJson).path("boots")) {
                    outcomes.add(b.path("slot").asText() + ":" + b.path("outcome").asText());
                    slot = b.path("slot").asText(null);
                    version = b.path("version").asText(null);
                    if (b.path("outcome").asText().equals("marked")) {
                        marked = true;
                        readyMs = b.path("ready_ms").isNumber() ? b.path("ready_ms").asLong() : null;
                    }
                }
            } catch (IOException e) {
                return new SmokeResult(name, false, "unreadable --metrics: " + e.getMessage(), null, null, null, wallMs,
                        status, log);
            }
        }
        String passes = outcomes.isEmpty() ? "" : " (passes: " + String.join(" ", outcomes) + ")";
        String reason = null;
        if (status == ExitCodes.NO_BOOTABLE_SLOT) {
            String said = lastJvmmLine(log);
            reason = said.isEmpty() ? "no bootable slot" : said.substring(2);
        } else if (status == ExitCodes.MAX_BOOTS) {
            reason = "rebooted on every firmware pass" + passes;
        } else if (status == ExitCodes.TIMEOUT) {
            reason = "not ready and marked within --timeout" + passes;
        } else if (metricsJson == null) {
            reason = "refused before booting (status " + status + ")" + lastJvmmLine(log);
        } else if (!marked) {
            reason = "never marked successful, status " + status + passes;
        } else if (status != 0) {
            reason = "--exec '" + exec + "' exited " + status;
        } else if (expect != null && !expect.matcher(log).find()) {
            reason = "console does not match --expect " + expect.pattern();
        }
        return new SmokeResult(name, reason == null, reason, slot, version, readyMs, wallMs, status, log);
    }

    /** jvmm's last own line ("jvmm: …"), for a boot refused before any guest ran. */
    private static String lastJvmmLine(String log) {
        String last = null;
        for (String l : log.split("\n")) {
            String t = l.strip();
            if (t.startsWith("jvmm: ") && !t.startsWith("jvmm: no usable hardware KVM")) {
                last = t.substring(6);
            }
        }
        return last == null ? "" : ": " + last;
    }

    private static String tail(Path log) throws IOException {
        long size = Files.size(log);
        try (FileChannel ch = FileChannel.open(log)) {
            long from = Math.max(0, size - MAX_LOG);
            ByteBuffer b = ByteBuffer.allocate((int) (size - from));
            while (b.hasRemaining() && ch.read(b, from + b.position()) > 0) {
                // read the rest
            }
            return new String(b.array(), 0, b.position(), StandardCharsets.ISO_8859_1);
        }
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // a leftover temporary folder
        }
    }
}
