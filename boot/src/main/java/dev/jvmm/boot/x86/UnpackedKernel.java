package dev.jvmm.boot.x86;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.vmm.memory.GuestMemory;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;

/**
 * The kernel proper from inside a bzImage ({@link BzImagePayload}), to be loaded in the bzImage's
 * place: in memory just after unpacking, or in a file of jvmm's cache. A cached one is read
 * straight from the file into guest memory, segment by segment: no copy of ten megabytes on the
 * Java heap, whose first touch alone cost more than half a second under the lab's TCG.
 *
 * <p>The file is the compact ELF, then a trailer: the CRC32 of the ELF's headers and of each
 * segment's bytes, in order, and 8 magic bytes. A file whose trailer does not match what was
 * loaded is refused after the fact, and the caller loads the bzImage instead.
 */
public final class UnpackedKernel {
    private static final byte[] MAGIC = {'j', 'v', 'm', 'm', 'U', 'N', 'P', 'K'};
    private static final int TRAILER = 4 + MAGIC.length;
    private static final int MAX_HEADERS = 64 << 10;

    private final KernelImage.Elf elf;
    private final Path file;
    private final int headerBytes;
    private final int expectedCrc;
    private final boolean verify;
    /** A write begun on its own thread ({@link EarlyKernelWrite}), which {@link #writeTo} waits for. */
    private volatile EarlyKernelWrite early;

    private UnpackedKernel(KernelImage.Elf elf, Path file, int headerBytes, int expectedCrc, boolean verify) {
        this.elf = elf;
        this.file = file;
        this.headerBytes = headerBytes;
        this.expectedCrc = expectedCrc;
        this.verify = verify;
    }

    /** A kernel in memory: an ELF as {@link BzImagePayload#unpack} returns it. */
    public static UnpackedKernel of(byte[] elf) throws KernelLoadException {
        if (!(KernelImage.parse(elf) instanceof KernelImage.Elf e)) {
            throw new KernelLoadException("the unpacked kernel is not an ELF vmlinux");
        }
        return new UnpackedKernel(e, null, 0, 0, false);
    }

    /**
     * A cached kernel: its headers are read and checked now; its segments, if {@code verify},
     * against the trailer's checksum as they are loaded. (The lab's inner jvmm loads entries the
     * host checked with {@link #check} as it shipped them: under TCG the check, with a CRC32 key,
     * made "kernel loaded" +0.69-0.73 s in two lab boots, against +0.23-0.24 s without.)
     */
    public static UnpackedKernel open(Path file, boolean verify) throws KernelLoadException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 64 + TRAILER || size > Integer.MAX_VALUE) {
                throw new KernelLoadException(file + ": not an unpacked kernel (" + size + " bytes)");
            }
            ByteBuffer trailer = ByteBuffer.allocate(TRAILER).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, trailer, size - TRAILER);
            byte[] magic = new byte[MAGIC.length];
            trailer.get(4, magic);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new KernelLoadException(file + ": no unpacked-kernel trailer (cut short, or not jvmm's)");
            }
            ByteBuffer head = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, head, 0);
            long phoff = head.getLong(32);
            long headers = phoff + (long) (head.getShort(54) & 0xffff) * (head.getShort(56) & 0xffff);
            if (phoff < 64 || headers > MAX_HEADERS || headers > size - TRAILER) {
                throw new KernelLoadException(file + ": its program headers lie outside it");
            }
            ByteBuffer all = ByteBuffer.allocate((int) headers).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, all, 0);
            KernelImage.Elf elf = KernelImage.parseElf(all, size - TRAILER, null);
            return new UnpackedKernel(elf, file, (int) headers, trailer.getInt(0), verify);
        } catch (IOException e) {
            throw new KernelLoadException(file + ": " + e.getMessage());
        }
    }

    /**
     * Writes {@code elf} (a compact ELF from {@link BzImagePayload#unpack}) to {@code target} with
     * its trailer, whole or not at all (a partial file, then an atomic rename).
     */
    public static void save(byte[] elf, Path target) throws IOException, KernelLoadException {
        KernelImage.Elf parsed = of(elf).elf;
        CRC32 crc = new CRC32();
        crc.update(elf, 0, headerLength(elf));
        for (KernelImage.Segment s : parsed.segments()) {
            crc.update(elf, s.fileOffset(), s.fileSize());
        }
        ByteBuffer trailer = ByteBuffer.allocate(TRAILER).order(ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue())
                .put(MAGIC);
        Path partial = target.resolveSibling(target.getFileName() + ".partial-" + ProcessHandle.current().pid());
        try {
            Files.createDirectories(target.getParent());
            try (OutputStream out = Files.newOutputStream(partial)) {
                out.write(elf);
                out.write(trailer.array());
            }
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    public List<KernelImage.Segment> segments() {
        return elf.segments();
    }

    public long entry() {
        return elf.entry();
    }

    /** The cache file it is read from, or null for one in memory. */
    public Path file() {
        return file;
    }

    /** Reads a cached kernel's bytes and checks them against its trailer; refuses a damaged one. */
    public void check() throws KernelLoadException {
        if (file == null) {
            return;
        }
        CRC32 crc = new CRC32();
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            update(crc, ch, buf, 0, headerBytes);
            for (KernelImage.Segment s : elf.segments()) {
                update(crc, ch, buf, s.fileOffset(), s.fileSize());
            }
        } catch (IOException e) {
            throw new KernelLoadException(file + ": " + e.getMessage());
        }
        if ((int) crc.getValue() != expectedCrc) {
            throw new KernelLoadException(file + ": damaged (its checksum does not match)");
        }
    }

    private static void update(CRC32 crc, FileChannel ch, ByteBuffer buf, long from, long length) throws IOException {
        for (long done = 0; done < length; ) {
            buf.clear().limit((int) Math.min(buf.capacity(), length - done));
            readFully(ch, buf, from + done);
            done += buf.position();
            crc.update(buf.flip());
        }
    }

    /**
     * Puts each segment's file bytes at its physical address (the loader zeroes the rest). A cached
     * kernel is read straight into guest memory and then, if opened to verify, checked against
     * its trailer; on a mismatch the segments are zeroed again and the load refused.
     */
    void writeTo(GuestMemory mem) throws KernelLoadException {
        EarlyKernelWrite begun = early;
        if (begun != null && begun.writes(mem)) {
            begun.await();
            return;
        }
        write(mem);
    }

    void writingEarly(EarlyKernelWrite write) {
        early = write;
    }

    /** The write itself, on the caller's thread. */
    void write(GuestMemory mem) throws KernelLoadException {
        if (file == null) {
            for (KernelImage.Segment s : elf.segments()) {
                mem.write(s.physAddr(), elf.file(), s.fileOffset(), s.fileSize());
            }
            return;
        }
        CRC32 crc = new CRC32();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(headerBytes);
            readFully(ch, head, 0);
            crc.update(head.flip());
            for (KernelImage.Segment s : elf.segments()) {
                long done = 0;
                while (done < s.fileSize()) {
                    ByteBuffer view = mem.sliceWithin(s.physAddr() + done, (int) (s.fileSize() - done));
                    int n = view.remaining();
                    readFully(ch, view, s.fileOffset() + done);
                    if (verify) {
                        crc.update(view.flip());
                    }
                    done += n;
                }
            }
        } catch (IOException e) {
            throw new KernelLoadException(file + ": " + e.getMessage());
        }
        if (verify && (int) crc.getValue() != expectedCrc) {
            for (KernelImage.Segment s : elf.segments()) {
                mem.fill(s.physAddr(), s.fileSize(), (byte) 0);
            }
            throw new KernelLoadException(file + ": damaged (its checksum does not match)");
        }
    }

    /** Where the headers end: the program headers', which follow the ELF header in a compact ELF. */
    private static int headerLength(byte[] elf) {
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        return (int) (b.getLong(32) + (long) (b.getShort(54) & 0xffff) * (b.getShort(56) & 0xffff));
    }

    private static void readFully(FileChannel ch, ByteBuffer dst, long position) throws IOException {
        long at = position;
        while (dst.hasRemaining()) {
            int n = ch.read(dst, at);
            if (n < 0) {
                throw new IOException("ends early, at byte " + at);
            }
            at += n;
        }
    }
}
