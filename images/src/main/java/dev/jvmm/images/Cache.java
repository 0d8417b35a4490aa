package dev.jvmm.images;

import java.nio.file.Path;

/**
 * Where jvmm keeps built artifacts: the system property jvmm.cache (tests), else $JVMM_CACHE,
 * else $XDG_CACHE_HOME/jvmm, else ~/.cache/jvmm.
 */
public final class Cache {
    private Cache() {}

    public static Path root() {
        String explicit = System.getProperty("jvmm.cache", System.getenv("JVMM_CACHE"));
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit).toAbsolutePath();
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("jvmm").toAbsolutePath();
    }

    public static Path dir(String name) {
        return root().resolve(name);
    }
}
