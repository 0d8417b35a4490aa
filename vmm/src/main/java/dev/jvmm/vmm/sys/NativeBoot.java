package dev.jvmm.vmm.sys;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Finds and loads jvmm's JNI library (src/main/c/jvmm_sys.c, one build per architecture inside
 * the vmm jar). From a jar it is copied once into a cache directory named by the jar's path, size
 * and time, so later starts load it without opening the jar; from a classes directory (tests) it
 * is loaded where it lies. {@code -Djvmm.native.lib=PATH} names a ready copy (the lab packs one).
 */
public final class NativeBoot {
    /** System property: a directory for the cached copy (jvmm's cache; main sets it). */
    public static final String CACHE_PROPERTY = "jvmm.native.dir";
    /** System property: the library itself, ready to load. */
    public static final String LIB_PROPERTY = "jvmm.native.lib";

    private NativeBoot() {}

    /** Where later loads keep their copy of the library: call before any system call (first thing in main). */
    public static void prepare(Path cacheDir) {
        if (System.getProperty(CACHE_PROPERTY) == null) {
            System.setProperty(CACHE_PROPERTY, cacheDir.toString());
        }
    }

    /** The architecture directory of the library in the jar. */
    static String architecture() {
        return switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64" -> "aarch64";
            default -> throw new UnsatisfiedLinkError("jvmm runs on x86_64 and aarch64 Linux, not " + System.getProperty("os.arch"));
        };
    }

    static String resource() {
        return "dev/jvmm/vmm/sys/native/linux-" + architecture() + "/libjvmmsys.so";
    }

    /** Loads the library (LibC's static initialiser calls this). */
    static void load() {
        String ready = System.getProperty(LIB_PROPERTY);
        if (ready != null) {
            System.load(Path.of(ready).toAbsolutePath().toString());
            return;
        }
        try {
            System.load(locate().toString());
        } catch (IOException e) {
            throw new UnsatisfiedLinkError("cannot unpack jvmm's native library: " + e.getMessage());
        }
    }

    private static Path locate() throws IOException {
        Path jar = ownJar();
        if (jar == null) {
            URL url = NativeBoot.class.getClassLoader().getResource(resource());
            if (url == null || !url.getProtocol().equals("file")) {
                throw new UnsatisfiedLinkError("jvmm's native library " + resource() + " is not on the class path");
            }
            try {
                return Path.of(url.toURI());
            } catch (URISyntaxException e) {
                throw new IOException(e);
            }
        }
        String cache = System.getProperty(CACHE_PROPERTY);
        Path dir = cache != null ? Path.of(cache) : Path.of(System.getProperty("java.io.tmpdir"), "jvmm-native");
        String key = Integer.toHexString((jar.toAbsolutePath() + "|" + Files.size(jar) + "|"
                + Files.getLastModifiedTime(jar).toMillis()).hashCode());
        Path lib = dir.resolve("jvmmsys-" + architecture() + "-" + key).resolve("libjvmmsys.so");
        if (!Files.isRegularFile(lib)) {
            Files.createDirectories(lib.getParent());
            // Not createTempFile: its random name would start the security providers.
            Path tmp = lib.resolveSibling("libjvmmsys." + ProcessHandle.current().pid() + ".partial");
            try (InputStream in = NativeBoot.class.getClassLoader().getResourceAsStream(resource())) {
                if (in == null) {
                    throw new UnsatisfiedLinkError(jar + " holds no " + resource());
                }
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.move(tmp, lib, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        return lib;
    }

    /** The jar this class was loaded from, or null (classes from a directory). */
    static Path ownJar() {
        try {
            Path p = Path.of(NativeBoot.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return p.toString().endsWith(".jar") ? p : null;
        } catch (URISyntaxException | RuntimeException e) {
            return null;
        }
    }
}
