package dev.jvmm.images;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Host packages a build needs. Missing ones are installed with apt-get when jvmm runs as root;
 * otherwise the exact install command is given and the build stops.
 */
public final class HostTools {
    private HostTools() {}

    /** A file that proves a Debian package is installed, and the package's name. */
    public record Requirement(String path, String debianPackage) {}

    public static List<Requirement> missing(List<Requirement> needs) {
        List<Requirement> out = new ArrayList<>();
        for (Requirement r : needs) {
            if (!Files.exists(Path.of(r.path()))) {
                out.add(r);
            }
        }
        return out;
    }

    public static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    public static String installCommand(List<Requirement> missing) {
        Map<String, Boolean> pkgs = new LinkedHashMap<>();
        missing.forEach(r -> pkgs.put(r.debianPackage(), true));
        return "sudo apt-get install -y " + String.join(" ", pkgs.keySet());
    }

    /** Installs what is missing (as root) or throws with the command to run. */
    public static void ensure(String purpose, List<Requirement> needs) throws IOException, InterruptedException {
        List<Requirement> missing = missing(needs);
        if (missing.isEmpty()) {
            return;
        }
        String cmd = installCommand(missing);
        if (!isRoot()) {
            throw new IOException(purpose + " needs packages that are not installed; run: " + cmd);
        }
        System.err.println("[jvmm] installing for " + purpose + ": " + cmd.substring("sudo ".length()));
        List<String> argv = new ArrayList<>(List.of("apt-get", "install", "-y", "-q"));
        missing.stream().map(Requirement::debianPackage).distinct().forEach(argv::add);
        run(List.of("apt-get", "update", "-q"));
        run(argv);
        List<Requirement> still = missing(needs);
        if (!still.isEmpty()) {
            throw new IOException("still missing after apt-get: " + still);
        }
    }

    private static void run(List<String> argv) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        int rc = pb.start().waitFor();
        if (rc != 0) {
            throw new IOException(String.join(" ", argv) + " failed with status " + rc);
        }
    }

    /** Runs a command and returns its trimmed standard output, or null when it fails. */
    public static String output(String... argv) {
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(false).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            return p.waitFor() == 0 ? out : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Runs a command in {@code dir} (null: here) with extra environment; returns its output, or throws with it. */
    public static String run(Path dir, Map<String, String> env, String... argv) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException(argv[0] + " failed: " + out.trim().replace('\n', ' '));
        }
        return out;
    }

    /** Deletes a file or directory tree, symbolic links included but not followed. */
    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
