package dev.jvmm.vmm.sys;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * How JNA starts in jvmm, set before any JNA class loads. Left to itself, JNA copies its native
 * library out of the jar into a new temporary file on every start (a SecureRandom for the name,
 * a scan of old temporary files), and on Linux runs {@code ldconfig -p} in a child process to
 * learn the library path. jvmm keeps one copy of the library in its cache, keyed by the jar
 * entry's CRC, and gives JNA the system library directories itself; the C library is then
 * opened by its soname ({@link LibC}). Costs tens of milliseconds of every jvmm start otherwise.
 */
public final class NativeBoot {
    private NativeBoot() {}

    /** Where glibc's libraries live on Debian/Ubuntu (multiarch) and elsewhere. */
    static String platformLibraryPath() {
        String multiarch = switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "x86_64-linux-gnu";
            case "aarch64" -> "aarch64-linux-gnu";
            default -> null;
        };
        String dirs = "/usr/lib64:/lib64:/usr/lib:/lib";
        return multiarch == null ? dirs : "/usr/lib/" + multiarch + ":/lib/" + multiarch + ":" + dirs;
    }

    /** JNA's resource directory for this platform, as JNA names it. */
    static String platformDirectory() {
        return switch (System.getProperty("os.arch").toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64" -> "linux-x86-64";
            case "aarch64" -> "linux-aarch64";
            default -> null;
        };
    }

    /**
     * Points JNA at its native library under {@code cacheDir} (copied there once) and at the
     * system library path. Does nothing where the user has configured JNA, off Linux, or when
     * the cache cannot be written (JNA then does what it always does).
     */
    public static void prepare(Path cacheDir) {
        if (!System.getProperty("os.name").startsWith("Linux")) {
            return;
        }
        if (System.getProperty("jna.platform.library.path") == null) {
            System.setProperty("jna.platform.library.path", platformLibraryPath());
        }
        if (System.getProperty("jna.boot.library.path") != null) {
            return;
        }
        String dir = platformDirectory();
        if (dir == null) {
            return;
        }
        URL url = NativeBoot.class.getClassLoader().getResource("com/sun/jna/" + dir + "/libjnidispatch.so");
        if (url == null) {
            return;
        }
        try {
            URLConnection c = url.openConnection();
            String key = c instanceof JarURLConnection jar
                    ? Long.toHexString(jar.getJarEntry().getCrc()) + "-" + jar.getJarEntry().getSize() : null;
            if (key == null) {
                return; // not in a jar (tests from classes): let JNA find it
            }
            Path home = cacheDir.resolve("jna-" + key);
            Path lib = home.resolve("libjnidispatch.so");
            if (!Files.isRegularFile(lib)) {
                Files.createDirectories(home);
                Path tmp = Files.createTempFile(home, "libjnidispatch", ".partial");
                try (InputStream in = c.getInputStream()) {
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                }
                Files.move(tmp, lib, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            System.setProperty("jna.boot.library.path", home.toString());
            System.setProperty("jna.nosys", "true");
            System.setProperty("jna.nounpack", "true"); // nothing to unpack, no old copies to sweep
        } catch (IOException | RuntimeException e) {
            // JNA's own way still works; it is only slower
        }
    }
}
