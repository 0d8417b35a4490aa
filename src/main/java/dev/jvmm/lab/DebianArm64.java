package dev.jvmm.lab;

import dev.jvmm.images.HostTools;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Debian's arm64 packages, fetched on this (x86_64) host with its own apt: the arm64 lab's L1
 * kernel, busybox, Java runtime and C libraries come from them. apt knows arm64 packages once
 * dpkg has the foreign architecture and the lists have been updated; as root this does both
 * (once), otherwise it names the commands. Versions come from apt's candidates, so the cache
 * keys move when Debian updates a package.
 */
final class DebianArm64 {
    static final String ARCH = "arm64";

    private final PrintStream log;
    private boolean updated;

    DebianArm64(PrintStream log) {
        this.log = log;
    }

    /** Whether dpkg lists arm64 as a foreign architecture. */
    static boolean architectureAdded() {
        String out = HostTools.output("dpkg", "--print-foreign-architectures");
        return out != null && List.of(out.split("\\s+")).contains(ARCH);
    }

    /** The command that makes arm64 packages visible to apt here. */
    static String setupCommand() {
        return "sudo dpkg --add-architecture arm64 && sudo apt-get update";
    }

    private void ensureArchitecture() throws IOException, InterruptedException {
        if (architectureAdded()) {
            return;
        }
        if (!HostTools.isRoot()) {
            throw new IOException("the arm64 lab needs Debian's arm64 packages; run: " + setupCommand());
        }
        log.println("[jvmm] lab: adding the arm64 architecture to dpkg (for apt-get download of arm64 packages)");
        HostTools.run(Path.of("/tmp"), Map.of(), "dpkg", "--add-architecture", ARCH);
        update();
    }

    private void update() throws IOException, InterruptedException {
        if (!updated && HostTools.isRoot()) {
            HostTools.run(Path.of("/tmp"), Map.of(), "apt-get", "update", "-q");
            updated = true;
        }
    }

    /** apt's candidate version of each arm64 package, in the order asked; missing ones are an error naming them. */
    Map<String, String> candidates(List<String> packages) throws IOException, InterruptedException {
        ensureArchitecture();
        Map<String, String> out = candidatesOnce(packages);
        if (out.size() < packages.size() && HostTools.isRoot() && !updated) {
            update();
            out = candidatesOnce(packages);
        }
        if (out.size() < packages.size()) {
            Map<String, String> known = out;
            List<String> missing = packages.stream().filter(p -> !known.containsKey(p)).toList();
            throw new IOException("apt knows no arm64 " + String.join(", ", missing) + " (run: " + setupCommand() + ")");
        }
        return out;
    }

    private static Map<String, String> candidatesOnce(List<String> packages) {
        String[] argv = new String[packages.size() + 2];
        argv[0] = "apt-cache";
        argv[1] = "policy";
        for (int i = 0; i < packages.size(); i++) {
            argv[i + 2] = packages.get(i) + ":" + ARCH;
        }
        return parsePolicy(AptAnswers.output(argv));
    }

    /** Package (without :arm64) to candidate version, from apt-cache policy's output. */
    static Map<String, String> parsePolicy(String policy) {
        Map<String, String> out = new LinkedHashMap<>();
        if (policy == null) {
            return out;
        }
        String current = null;
        for (String line : policy.split("\n")) {
            if (!line.startsWith(" ") && line.endsWith(":")) {
                current = line.substring(0, line.length() - 1);
                if (current.endsWith(":" + ARCH)) {
                    current = current.substring(0, current.length() - ARCH.length() - 1);
                }
            } else if (current != null && line.trim().startsWith("Candidate:")) {
                String v = line.trim().substring("Candidate:".length()).trim();
                if (!v.isEmpty() && !v.equals("(none)")) {
                    out.put(current, v);
                }
            }
        }
        return out;
    }

    /** The versioned package a meta package depends on first (linux-image-arm64 -> linux-image-6.1.0-N-arm64). */
    String dependency(String meta, String prefix) throws IOException, InterruptedException {
        ensureArchitecture();
        for (int attempt = 0; attempt < 2; attempt++) {
            String deps = AptAnswers.output("apt-cache", "depends", meta + ":" + ARCH);
            if (deps != null) {
                for (String line : deps.split("\n")) {
                    line = line.trim();
                    if (line.startsWith("Depends: " + prefix)) {
                        String dep = line.substring("Depends: ".length()).trim();
                        return dep.endsWith(":" + ARCH) ? dep.substring(0, dep.length() - ARCH.length() - 1) : dep;
                    }
                }
            }
            if (updated || !HostTools.isRoot()) {
                break;
            }
            update();
        }
        throw new IOException("cannot find Debian's arm64 " + meta + " (run: " + setupCommand() + ")");
    }

    /** Downloads {@code pkg} at {@code version} and unpacks it under {@code into}; the .deb is removed. */
    void fetch(String pkg, String version, Path into) throws IOException, InterruptedException {
        Path tmp = Files.createTempDirectory("jvmm-deb");
        try {
            HostTools.run(tmp, Map.of(), "apt-get", "download", "-q", pkg + ":" + ARCH + (version == null ? "" : "=" + version));
            Path deb;
            try (var s = Files.list(tmp)) {
                deb = s.filter(p -> p.toString().endsWith(".deb")).findFirst()
                        .orElseThrow(() -> new IOException("apt-get download " + pkg + ":" + ARCH + " produced no .deb"));
            }
            Files.createDirectories(into);
            HostTools.run(tmp, Map.of(), "dpkg-deb", "-x", deb.toString(), into.toString());
        } finally {
            HostTools.deleteTree(tmp);
        }
    }
}
