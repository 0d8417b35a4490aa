package dev.jvmm.boot.x86;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.vmm.memory.GuestMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A cached kernel written on its own thread while the VM is set up, then joined by the loader. */
class EarlyKernelWriteTest {
    private static final long MEMORY = 64 << 20;

    @TempDir
    Path dir;

    private byte[] bz;
    private UnpackedKernel cached;

    private void cachedKernel(int seed) throws Exception {
        byte[] elf = BzImagePayloadTest.elf(1 << 20, seed);
        bz = BzImagePayloadTest.bzImage(BzImagePayloadTest.withSize(BzImagePayloadTest.gzip(elf), elf.length));
        Path file = dir.resolve("k.elf");
        UnpackedKernel.save(BzImagePayload.unpack(bz), file);
        cached = UnpackedKernel.open(file, true);
    }

    @Test
    void theLoaderJoinsTheEarlyWriteAndTheGuestSeesWhatAnOrdinaryLoadWrites() throws Exception {
        cachedKernel(21);
        GuestMemory early = GuestMemory.heap(MEMORY);
        try (EarlyKernelWrite write = EarlyKernelWrite.start(cached, bz, early)) {
            X86Loader.Loaded a = X86Loader.load(early, bz, cached, new byte[]{1, 2, 3}, "console=ttyS0", 0);
            GuestMemory ordinary = GuestMemory.heap(MEMORY);
            X86Loader.Loaded b = X86Loader.load(ordinary, bz, UnpackedKernel.open(dir.resolve("k.elf"), true),
                    new byte[]{1, 2, 3}, "console=ttyS0", 0);
            assertEquals(b.entry(), a.entry());
            assertEquals(b.format(), a.format());
            assertArrayEquals(ordinary.read(0, (int) MEMORY), early.read(0, (int) MEMORY), "byte for byte the same guest memory");
            KernelImage.Segment s = cached.segments().get(0);
            assertFalse(isZero(early.read(s.physAddr(), s.fileSize())));
        }
    }

    @Test
    void aDamagedFileIsRefusedByTheLoaderWithItsSegmentsZeroed() throws Exception {
        cachedKernel(22);
        Path file = dir.resolve("k.elf");
        byte[] onDisk = Files.readAllBytes(file);
        KernelImage.Segment s = cached.segments().get(0);
        onDisk[s.fileOffset() + 4000] ^= 0x40;
        Files.write(file, onDisk);
        UnpackedKernel damaged = UnpackedKernel.open(file, true);
        GuestMemory mem = GuestMemory.heap(MEMORY);
        try (EarlyKernelWrite write = EarlyKernelWrite.start(damaged, bz, mem)) {
            KernelLoadException e = assertThrows(KernelLoadException.class,
                    () -> X86Loader.load(mem, bz, damaged, null, "", 0));
            assertTrue(e.getMessage().contains("damaged"), e.getMessage());
            assertTrue(isZero(mem.read(s.physAddr(), s.fileSize())), "the segments are zeroed again");
        }
    }

    @Test
    void aKernelTheLoaderWouldRefuseIsRefusedBeforeAnythingIsWritten() throws Exception {
        byte[] elf = BzImagePayloadTest.elf(8192, 23);
        ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN).putLong(64 + 24, BzImagePayloadTest.KERNEL_AT + (2 << 20));
        byte[] misplacedBz = BzImagePayloadTest.bzImage(BzImagePayloadTest.withSize(BzImagePayloadTest.gzip(elf), elf.length));
        UnpackedKernel misplaced = UnpackedKernel.of(elf);
        GuestMemory mem = GuestMemory.heap(MEMORY);
        KernelLoadException e = assertThrows(KernelLoadException.class,
                () -> EarlyKernelWrite.start(misplaced, misplacedBz, mem));
        assertTrue(e.getMessage().contains("pref_address"), e.getMessage());
        assertTrue(isZero(mem.read(0, (int) MEMORY)), "nothing written");

        cachedKernel(24);
        GuestMemory small = GuestMemory.heap(16 << 20); // the kernel's segments lie at 16 MiB and up
        assertThrows(KernelLoadException.class, () -> EarlyKernelWrite.start(cached, bz, small));
        KernelImage.BzImage header = (KernelImage.BzImage) KernelImage.parse(bz);
        KernelImage.Segment last = cached.segments().get(cached.segments().size() - 1);
        long segmentsEnd = last.physAddr() + last.memSize();
        assertTrue(header.prefAddress() + header.initSize() > segmentsEnd, "init_size reaches past the segments");
        GuestMemory roomForSegmentsOnly = GuestMemory.heap(segmentsEnd);
        KernelLoadException noRoom = assertThrows(KernelLoadException.class,
                () -> EarlyKernelWrite.start(cached, bz, roomForSegmentsOnly));
        assertTrue(noRoom.getMessage().contains("init_size"), noRoom.getMessage());
        assertTrue(isZero(roomForSegmentsOnly.read(0, (int) segmentsEnd)), "nothing written");
        assertThrows(KernelLoadException.class, () -> EarlyKernelWrite.start(cached, new byte[4096], small),
                "not a bzImage");
    }

    @Test
    void closingWaitsForTheWriteAndTheLoaderThenTakesItsOutcomeWithoutWritingAgain() throws Exception {
        cachedKernel(26);
        GuestMemory mem = GuestMemory.heap(MEMORY);
        EarlyKernelWrite write = EarlyKernelWrite.start(cached, bz, mem);
        write.close(); // as a VM whose set-up failed before the loader would: teardown, then memory goes
        KernelImage.Segment s = cached.segments().get(0);
        assertFalse(isZero(mem.read(s.physAddr(), s.fileSize())), "the write had finished when close returned");
        write.await(); // and its outcome is still there to take
        Files.delete(dir.resolve("k.elf")); // a loader that read the file again would fail now
        X86Loader.Loaded loaded = X86Loader.load(mem, bz, cached, null, "console=ttyS0", 0);
        assertTrue(loaded.format().endsWith("unpacked by jvmm"), loaded.format());
        GuestMemory other = GuestMemory.heap(MEMORY);
        assertThrows(KernelLoadException.class, () -> cached.writeTo(other),
                "another guest memory is not the early write's: that write reads the (now missing) file");
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }
}
