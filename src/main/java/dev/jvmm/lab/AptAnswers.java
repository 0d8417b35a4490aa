package dev.jvmm.lab;

import dev.jvmm.images.Cache;
import dev.jvmm.images.Hashing;
import dev.jvmm.images.HostTools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * apt-cache's answers, kept while apt's package lists stay as they are. Each lab start asks
 * apt which kernel and package versions are current; with Debian's container images' apt
 * settings (no binary package cache) every apt-cache call parses all package lists again, about
 * 1.5 s of CPU each, several seconds a lab start under load. An answer depends only on the
 * lists (and dpkg's architectures), so it is stored keyed by their names, sizes and times and
 * reused until an apt-get update changes them. Failed calls are never stored.
 */
final class AptAnswers {
    static final Path LISTS = Path.of("/var/lib/apt/lists");
    static final Path DPKG_ARCH = Path.of("/var/lib/dpkg/arch");

    private AptAnswers() {}

    /** {@link HostTools#output} of {@code argv}, from the store when apt's lists have not changed since. */
    static String output(String... argv) {
        String state = listsState();
        if (state == null) {
            return HostTools.output(argv);
        }
        Path stored = Cache.dir("lab").resolve("apt").resolve(Hashing.key(String.join("\0", argv), state, "v1") + ".txt");
        try {
            if (Files.isRegularFile(stored)) {
                return Files.readString(stored);
            }
        } catch (IOException unreadable) {
            // ask apt again
        }
        String out = HostTools.output(argv);
        if (out != null) {
            try {
                Files.createDirectories(stored.getParent());
                Path tmp = Files.createTempFile(stored.getParent(), "answer", ".tmp");
                Files.writeString(tmp, out);
                Files.move(tmp, stored, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException unwritable) {
                // answered, only not kept
            }
        }
        return out;
    }

    /** The package lists' and dpkg architectures' names, sizes and modification times; null if unreadable. */
    static String listsState() {
        try (var s = Files.list(LISTS)) {
            List<String> parts = new ArrayList<>();
            for (Path p : s.sorted().toList()) {
                if (Files.isRegularFile(p)) {
                    parts.add(p.getFileName() + ":" + Files.size(p) + ":" + Files.getLastModifiedTime(p).toMillis());
                }
            }
            if (Files.isRegularFile(DPKG_ARCH)) {
                parts.add("arch:" + Files.readString(DPKG_ARCH).trim());
            }
            return String.join(";", parts);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
