package dev.jvmm.boot.x86;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.vmm.memory.GuestMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UnpackedKernelTest {
    @TempDir
    Path dir;

    private byte[] compactKernel() throws Exception {
        byte[] elf = BzImagePayloadTest.elf(8192, 11);
        return BzImagePayload.unpack(BzImagePayloadTest.bzImage(
                BzImagePayloadTest.withSize(BzImagePayloadTest.gzip(elf), elf.length)));
    }

    @Test
    void aSavedKernelLoadsStraightFromItsFileAsFromMemory() throws Exception {
        byte[] compact = compactKernel();
        Path file = dir.resolve("k.elf");
        UnpackedKernel.save(compact, file);
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "no partial file left beside it");
        }
        UnpackedKernel fromFile = UnpackedKernel.open(file, true);
        UnpackedKernel inMemory = UnpackedKernel.of(compact);
        assertEquals(inMemory.segments(), fromFile.segments());
        assertEquals(inMemory.entry(), fromFile.entry());
        GuestMemory a = GuestMemory.heap(64 << 20);
        GuestMemory b = GuestMemory.heap(64 << 20);
        fromFile.writeTo(a);
        inMemory.writeTo(b);
        KernelImage.Segment s = fromFile.segments().get(0);
        assertArrayEquals(b.read(s.physAddr(), s.fileSize()), a.read(s.physAddr(), s.fileSize()));
        assertFalse(Arrays.equals(new byte[s.fileSize()], a.read(s.physAddr(), s.fileSize())));
    }

    @Test
    void aDamagedSegmentIsRefusedAfterLoadingAndLeavesNothingBehind() throws Exception {
        byte[] compact = compactKernel();
        Path file = dir.resolve("k.elf");
        UnpackedKernel.save(compact, file);
        byte[] onDisk = Files.readAllBytes(file);
        KernelImage.Segment s = UnpackedKernel.of(compact).segments().get(0);
        onDisk[s.fileOffset() + 100] ^= 1;
        Files.write(file, onDisk);
        UnpackedKernel damaged = UnpackedKernel.open(file, true);
        GuestMemory mem = GuestMemory.heap(64 << 20);
        KernelLoadException e = assertThrows(KernelLoadException.class, () -> damaged.writeTo(mem));
        assertTrue(e.getMessage().contains("damaged"), e.getMessage());
        assertArrayEquals(new byte[s.fileSize()], mem.read(s.physAddr(), s.fileSize()), "the segments are zeroed again");
    }

    @Test
    void aFileCutShortOrWithoutTheTrailerIsRefusedWhenOpened() throws Exception {
        byte[] compact = compactKernel();
        Path file = dir.resolve("k.elf");
        UnpackedKernel.save(compact, file);
        byte[] onDisk = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(onDisk, onDisk.length - 5));
        assertThrows(KernelLoadException.class, () -> UnpackedKernel.open(file, true));
        Files.write(file, compact); // the ELF alone, no trailer
        assertThrows(KernelLoadException.class, () -> UnpackedKernel.open(file, true));
        Files.write(file, Arrays.copyOf(onDisk, 40));
        assertThrows(KernelLoadException.class, () -> UnpackedKernel.open(file, true));
    }
}
