package dev.jvmm.machine;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.boot.x86.BzImagePayload;
import dev.jvmm.boot.x86.UnpackedKernel;
import dev.jvmm.images.Cache;
import dev.jvmm.images.CachePrune;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.zip.Adler32;

/**
 * The kernels jvmm has unpacked from bzImages, kept in the cache so that each is unpacked once:
 * a boot then loads the kernel proper and the guest skips its decompressor (xz: most of a second
 * in the lab, tens to hundreds of milliseconds on hardware). Keyed by the bzImage's size and
 * checksums ({@link #key}); each entry carries a CRC32 of itself (UnpackedKernel), checked as it
 * is loaded on a host and when the lab ships it, so a damaged entry is noticed, dropped and
 * unpacked again.
 *
 * <p>Policy, from the system property {@code jvmm.kernel.unpack}: {@code on} (the default: on a
 * miss the guest unpacks this boot's kernel and jvmm unpacks it in the background for the next),
 * {@code cached} (use an entry if there is one, as the host checked it when it
 * shipped it, else let the guest unpack: the lab's inner jvmm, which would unpack far slower than
 * the guest), {@code off}.
 */
public final class UnpackedKernels {
    public static final String POLICY_PROPERTY = "jvmm.kernel.unpack";
    /** Where the entries are, if not in the cache (the lab's inner jvmm: where L1's initramfs puts them). */
    public static final String DIR_PROPERTY = "jvmm.kernel.unpacked.dir";
    private static final String CACHED = ", cached";

    /**
     * What a boot loads: {@code kernel} the unpacked kernel (null: the bzImage as it is) and a few
     * words for the timeline on where it came from or why there is none.
     */
    public record Result(UnpackedKernel kernel, String note) {}

    private UnpackedKernels() {}

    /**
     * The unpacked kernel for the bzImage {@code kernel} from the cache, by the policy in force. On
     * a miss this boot gives the guest the bzImage as it is, and jvmm unpacks it on a thread of
     * its own for the next boot: no boot waits for jvmm's unpacking (0.6 s for the project
     * kernel's xz in a cold JVM here, against 0.22 s for xz(1); the guest's decompressor, native
     * on hardware, is about as fast as xz(1)).
     */
    public static Result forBoot(byte[] kernel) throws KernelLoadException {
        String policy = System.getProperty(POLICY_PROPERTY, "on");
        if (policy.equals("off")) {
            return new Result(null, null);
        }
        return lookup(dir(), kernel, policy.equals("cached") ? Miss.LEAVE : Miss.UNPACK_LATER);
    }

    /** What a lookup does when there is no entry. */
    enum Miss {
        /** Unpack now, and load what was unpacked (tests). */
        UNPACK_NOW,
        /** Leave this boot to the guest's decompressor and unpack on a background thread for the next. */
        UNPACK_LATER,
        /** Leave it to the guest's decompressor (the lab's inner jvmm). */
        LEAVE
    }

    private static Path dir() {
        String explicit = System.getProperty(DIR_PROPERTY);
        return explicit != null && !explicit.isBlank() ? Path.of(explicit) : Cache.dir("kernel-unpacked");
    }

    static Result lookup(Path dir, byte[] kernel, Miss miss) throws KernelLoadException {
        BzImagePayload.Format format = BzImagePayload.format(kernel);
        if (format == null) {
            return new Result(null, null); // an ELF, or a bzImage too old to say where its kernel is
        }
        if (!format.unpackable()) {
            return new Result(null, "the guest unpacks its " + format.word() + " kernel");
        }
        Path entry = dir.resolve(key(kernel) + ".elf");
        UnpackedKernel cached = open(entry, miss != Miss.LEAVE);
        if (cached != null) {
            return new Result(cached, "cached");
        }
        switch (miss) {
            case LEAVE:
                return new Result(null, "not cached: the guest unpacks it");
            case UNPACK_LATER:
                unpackLater(entry, kernel);
                return new Result(null, "not cached yet: the guest unpacks it, jvmm unpacks it for the next boot");
            default:
                long start = System.nanoTime();
                byte[] elf = BzImagePayload.unpack(kernel);
                long ms = (System.nanoTime() - start) / 1_000_000;
                String saved = save(entry, elf);
                return new Result(UnpackedKernel.of(elf), format.word() + " in " + ms + " ms" + saved);
        }
    }

    /**
     * Unpacks {@code kernel} into {@code entry} on a daemon thread at low priority, and holds the
     * JVM's exit until it is done (at most {@link #EXIT_WAIT_MS}): a boot shorter than the
     * unpacking still leaves the entry for the next. A payload that will not unpack is said on
     * stderr once; the guest's decompressor says it too. Returns the thread, or null when this
     * entry is already being unpacked.
     */
    static Thread unpackLater(Path entry, byte[] kernel) {
        synchronized (IN_FLIGHT) {
            // One unpacking per entry: an image's passes (up to --max-boots) miss the same entry
            // one after another, and each would otherwise hold its own 256 MiB-capped buffer.
            if (!IN_FLIGHT.add(entry)) {
                return null;
            }
        }
        Thread worker = new Thread("kernel-unpack") {
            @Override
            public void run() {
                try {
                    sweepPartials(entry.getParent());
                    String saved = save(entry, BzImagePayload.unpack(kernel));
                    if (!saved.equals(CACHED)) {
                        System.err.println("\r\njvmm: the unpacked kernel was not kept" + saved + "\r");
                    }
                } catch (Throwable e) { // no thread ends silently
                    System.err.println("\r\njvmm: could not unpack the kernel for later boots: " + e.getMessage() + "\r");
                } finally {
                    synchronized (IN_FLIGHT) {
                        IN_FLIGHT.remove(entry);
                    }
                }
            }
        };
        worker.setDaemon(true);
        worker.setPriority(Thread.MIN_PRIORITY);
        worker.start();
        Runtime.getRuntime().addShutdownHook(new Thread("kernel-unpack-wait") {
            @Override
            public void run() {
                try {
                    worker.join(EXIT_WAIT_MS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        return worker;
    }

    /**
     * Removes partial files an hour old: what a jvmm killed while it wrote an entry, or whose exit
     * did not wait long enough, left behind.
     */
    static void sweepPartials(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        long cutoff = System.currentTimeMillis() - 3_600_000;
        try (DirectoryStream<Path> partials = Files.newDirectoryStream(dir, "*.partial-*")) {
            for (Path p : partials) {
                if (Files.getLastModifiedTime(p).toMillis() < cutoff) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** The entries being unpacked in the background by this JVM. */
    private static final Set<Path> IN_FLIGHT = new HashSet<>();

    /** How long the JVM's exit waits for a background unpacking. */
    static final long EXIT_WAIT_MS = 10_000;

    /**
     * The cache entry's name for a bzImage: its size, the CRC32 its build appended (of all the
     * bytes before it), and an Adler-32 of all of it, so that a bzImage damaged since its build
     * does not find the entry of the good one. (zlib's Adler-32: in one lab boot, by its class-load
     * stamps, a CRC32 of the 2.5 MB file took about 110 ms and the Adler-32 about 32 ms; the lab's
     * JVM runs without SHA intrinsics.)
     */
    public static String key(byte[] kernel) {
        int n = kernel.length;
        long built = n < 4 ? 0 : (kernel[n - 4] & 0xff) | (kernel[n - 3] & 0xff) << 8 | (kernel[n - 2] & 0xff) << 16
                | (kernel[n - 1] & 0xffL) << 24;
        Adler32 adler = new Adler32();
        adler.update(kernel, 0, n);
        // Not String.format: its first use compiles regexes, a cost the lab's boots would pay.
        return n + "-" + hex8(built) + hex8(adler.getValue());
    }

    private static String hex8(long v) {
        String h = Long.toHexString(v | 1L << 32);
        return h.substring(h.length() - 8);
    }

    /**
     * The cache entry for the bzImage {@code kernel}, unpacked now if there is none yet; null if
     * jvmm does not unpack its format. The lab ships it into L1 beside the kernel.
     */
    public static Path entryFor(byte[] kernel) throws KernelLoadException {
        BzImagePayload.Format format = BzImagePayload.format(kernel);
        if (format == null || !format.unpackable()) {
            return null;
        }
        Path entry = dir().resolve(key(kernel) + ".elf");
        UnpackedKernel cached = open(entry, true);
        if (cached != null) {
            try {
                cached.check();
            } catch (KernelLoadException e) {
                forget(entry);
                cached = null;
            }
        }
        if (cached == null) {
            String saved = save(entry, BzImagePayload.unpack(kernel));
            if (!saved.equals(CACHED)) {
                throw new KernelLoadException("could not keep the unpacked kernel: " + saved);
            }
        }
        return entry;
    }

    /** The entry if it opens (its headers and trailer check out), else null; a broken one is removed. */
    private static UnpackedKernel open(Path entry, boolean verify) {
        if (!Files.isRegularFile(entry)) {
            return null;
        }
        try {
            return UnpackedKernel.open(entry, verify);
        } catch (KernelLoadException e) {
            forget(entry);
            return null;
        }
    }

    /** Removes a damaged entry (the next boot unpacks it again). */
    public static void forget(Path entry) {
        try {
            Files.deleteIfExists(entry);
        } catch (IOException ignored) {
            // Written over by the next unpacking, if the directory lets us.
        }
    }

    /** Entries kept: one per bzImage booted, 11.5 MB for the project's (up to 256 MiB each). */
    static final int ENTRIES_KEPT = 16;

    /**
     * Writes the entry whole or not at all, then keeps the cache to its {@link #ENTRIES_KEPT}
     * newest entries; returns {@link #CACHED} or, when the cache cannot take it, why (the boot
     * goes on). A boot reading a pruned entry keeps its open file; the next boot of that bzImage
     * unpacks it again.
     */
    private static String save(Path entry, byte[] elf) throws KernelLoadException {
        try {
            UnpackedKernel.save(elf, entry);
            CachePrune.keepNewest(entry.getParent(), "*.elf", ENTRIES_KEPT);
            return CACHED;
        } catch (IOException e) {
            return ", not cached: " + e.getMessage();
        }
    }
}
