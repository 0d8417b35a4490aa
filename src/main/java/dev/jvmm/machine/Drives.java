package dev.jvmm.machine;

import dev.jvmm.images.Cache;
import dev.jvmm.images.disk.Lz4;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Turns a {@code --drive} into the file the device opens. An LZ4-compressed image is decompressed
 * once into the cache, keyed by the compressed file's SHA-256, and served read-only; with
 * {@code rw} the guest writes to a scratch copy, so neither the image nor the cache changes.
 */
public final class Drives {
    private Drives() {}

    public static DeviceSpecs.Drive resolve(DeviceSpecs.Drive d, PrintStream log) throws DeviceSetupException {
        Path p = d.path();
        if (!Files.exists(p)) {
            throw new DeviceSetupException("--drive " + p + ": no such file");
        }
        if (Files.isDirectory(p)) {
            throw new DeviceSetupException("--drive " + p + ": is a directory");
        }
        try {
            if (!Files.isRegularFile(p) || !Lz4.isLz4(p)) {
                return d.withPath(p, d.readOnlyFor(false));
            }
            Path dir = Files.createDirectories(Cache.dir("drives"));
            String key = sha256(p);
            Path plain = dir.resolve(key + ".img");
            if (!Files.isRegularFile(plain)) {
                log.println("[jvmm] decompressing " + p + " into the drive cache (once per image)");
                Path tmp = Files.createTempFile(dir, key, ".partial");
                try {
                    Lz4.decompress(p, tmp);
                    Files.move(tmp, plain, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } finally {
                    Files.deleteIfExists(tmp);
                }
            }
            if (!d.readOnlyFor(true)) {
                Path scratch = dir.resolve(key + ".rw.img");
                Files.copy(plain, scratch, StandardCopyOption.REPLACE_EXISTING);
                log.println("[jvmm] " + p + " is compressed; the guest writes to the copy " + scratch);
                return d.withPath(scratch, false);
            }
            return d.withPath(plain, true);
        } catch (IOException e) {
            throw new DeviceSetupException("--drive " + p + ": " + e.getMessage());
        }
    }

    static String sha256(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
