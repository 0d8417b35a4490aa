package dev.jvmm.machine;

import dev.jvmm.images.Cache;
import dev.jvmm.images.disk.Lz4;
import dev.jvmm.vmm.sys.DiskLock;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Turns a {@code --drive} into the file the device opens. An LZ4-compressed image is decompressed
 * once into the cache, keyed by the compressed file's SHA-256, and served read-only. The cache file
 * is fsynced before it is renamed into place and its size recorded beside it, so a crash or a
 * truncation is decompressed again, not booted. With {@code rw} the guest writes to a scratch copy
 * of its own: one per run ({@code drives/scratch/KEY-PID-MILLIS.img}), so concurrent VMs never share
 * one, and kept after the run so its path can be read back (an image boot prints it). A later
 * resolve removes scratch copies no VM holds (see {@link DiskLock}) that are older than
 * {@link #SCRATCH_KEEP}.
 */
public final class Drives {
    static final Duration SCRATCH_KEEP = Duration.ofHours(1);

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
            if (!verified(plain)) {
                log.println("[jvmm] decompressing " + p + " into the drive cache (once per image)");
                decompressInto(p, dir, key, plain);
            }
            if (!d.readOnlyFor(true)) {
                Path scratch = scratchCopy(plain, dir.resolve("scratch"), key);
                log.println("[jvmm] " + p + " is compressed; the guest writes to the copy " + scratch);
                return d.withPath(scratch, false);
            }
            return d.withPath(plain, true);
        } catch (IOException e) {
            throw new DeviceSetupException("--drive " + p + ": " + e.getMessage());
        }
    }

    /** Locks a boot holds on its host files until it ends. */
    public record Held(List<DiskLock> locks) implements AutoCloseable {
        public Held {
            locks = List.copyOf(locks);
        }

        @Override
        public void close() {
            // A loop, not forEach(DiskLock::close): every boot ends here, and a JVM's first method
            // reference spins its invokedynamic machinery (a generated class) on the way to exit.
            for (DiskLock lock : locks) {
                lock.close();
            }
        }
    }

    /**
     * Locks every host file a boot writes or reads (the image and rw drives exclusively, the rest
     * shared) before any lab or KVM work: in the lab the devices are QEMU's, whose locks jvmm's
     * do not see, so this is the lock that keeps `jvmm image` and other boots off them; on KVM it
     * refuses early, and the devices' own locks share it.
     */
    public static Held lock(MachineConfig c) throws DeviceSetupException {
        List<DiskLock> held = new ArrayList<>();
        try {
            if (c.image() != null) {
                held.add(lockOne("image ", c.image().disk(), true));
                if (c.image().updateFrom() != null) {
                    held.add(lockOne("--update-from ", c.image().updateFrom(), false));
                }
            }
            for (DeviceSpecs.Drive d : c.devices().drives()) {
                held.add(lockOne("--drive " + d.path() + ": ", d.path(), !Boolean.TRUE.equals(d.readOnly())));
            }
            return new Held(held);
        } catch (DeviceSetupException | RuntimeException e) {
            for (DiskLock lock : held) {
                lock.close();
            }
            throw e;
        }
    }

    private static DiskLock lockOne(String what, Path file, boolean exclusive) throws DeviceSetupException {
        try {
            return DiskLock.acquire(file, exclusive);
        } catch (IOException e) {
            throw new DeviceSetupException(what + e.getMessage());
        }
    }

    /** The record of a finished decompression: the size it wrote. */
    static Path sizeFile(Path plain) {
        return plain.resolveSibling(plain.getFileName() + ".size");
    }

    /** A cache file is trusted only with its size record, and only at that size. */
    static boolean verified(Path plain) throws IOException {
        Path rec = sizeFile(plain);
        if (!Files.isRegularFile(plain) || !Files.isRegularFile(rec)) {
            return false;
        }
        try {
            return Files.size(plain) == Long.parseLong(Files.readString(rec).trim());
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static void decompressInto(Path lz4, Path dir, String key, Path plain) throws IOException {
        Path tmp = Files.createTempFile(dir, key, ".partial");
        Path rec = Files.createTempFile(dir, key, ".size.partial");
        try {
            long size = Lz4.decompress(lz4, tmp);
            fsync(tmp);
            Files.writeString(rec, Long.toString(size), StandardCharsets.US_ASCII);
            fsync(rec);
            // The data is durable before its name is; the size record is named last, so it vouches for a whole file.
            Files.deleteIfExists(sizeFile(plain));
            Files.move(tmp, plain, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            fsync(dir);
            Files.move(rec, sizeFile(plain), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            fsync(dir);
        } finally {
            Files.deleteIfExists(tmp);
            Files.deleteIfExists(rec);
        }
    }

    /** A fresh copy for this run only, after removing old ones no VM holds; refused early if it cannot fit. */
    static Path scratchCopy(Path plain, Path scratchDir, String key) throws IOException {
        Files.createDirectories(scratchDir);
        pruneScratch(scratchDir, Instant.now().minus(SCRATCH_KEEP));
        return scratchCopy(plain, scratchDir, key, Files.getFileStore(scratchDir).getUsableSpace());
    }

    static Path scratchCopy(Path plain, Path scratchDir, String key, long free) throws IOException {
        long need = Files.size(plain);
        if (need > free) {
            throw new IOException("a read-write copy needs " + need + " bytes but " + scratchDir + " has only " + free + " free");
        }
        Path scratch = scratchDir.resolve(key.substring(0, 16) + "-" + ProcessHandle.current().pid() + "-"
                + System.currentTimeMillis() + ".img");
        try {
            Files.copy(plain, scratch);
        } catch (IOException e) {
            Files.deleteIfExists(scratch);
            throw e;
        }
        return scratch;
    }

    /** Removes scratch copies last written before {@code olderThan} that no VM has open (a lock taken means none). */
    static void pruneScratch(Path scratchDir, Instant olderThan) throws IOException {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(scratchDir, "*.img")) {
            String mine = "-" + ProcessHandle.current().pid() + "-";
            for (Path f : s) {
                // This process's own copies are skipped: its lock would be granted to itself.
                if (f.getFileName().toString().contains(mine) || !lastWrittenBefore(f, olderThan)) {
                    continue;
                }
                try (DiskLock probe = DiskLock.acquire(f, true)) {
                    Files.deleteIfExists(f);
                } catch (DiskLock.InUseException e) {
                    // a running VM's disk: it stays
                } catch (NoSuchFileException e) {
                    // another jvmm pruned it first
                }
            }
        }
    }

    static boolean lastWrittenBefore(Path f, Instant t) throws IOException {
        try {
            return Files.getLastModifiedTime(f).toInstant().isBefore(t);
        } catch (NoSuchFileException e) {
            return false; // gone already
        }
    }

    private static void fsync(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ch.force(true);
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
