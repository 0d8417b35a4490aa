package dev.jvmm.boot.arm64;

import dev.jvmm.boot.KernelLoadException;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The arm64 Image header as booting.rst defines it, plain, gzip-compressed and inside an EFI zboot image. */
class Arm64ImageTest {
    @Test
    void aPlainImageIsParsedFieldByField() throws Exception {
        byte[] f = TestImages.image();
        Arm64Image i = Arm64Image.parse(f);
        assertEquals(0, i.textOffset());
        assertEquals(TestImages.IMAGE_SIZE, i.imageSize());
        assertEquals(4, i.pageSizeKiB());
        assertTrue(i.placeAnywhere());
        assertEquals("Image", i.format());
        assertArrayEquals(f, i.image());
    }

    @Test
    void pageSizeAndPlacementFlags() throws Exception {
        int[] kib = {0, 4, 16, 64};
        for (int bits = 0; bits < 4; bits++) {
            long flags = bits << 1;
            Arm64Image i = Arm64Image.parse(TestImages.image(b -> b.putLong(24, flags)));
            assertEquals(kib[bits], i.pageSizeKiB());
            assertFalse(i.placeAnywhere());
        }
    }

    @Test
    void aKernelOlderThan317WithImageSizeZeroLoadsAtTheLegacyOffset() throws Exception {
        // text_offset in the kernel's own endianness and flags undefined: both ignored
        Arm64Image i = Arm64Image.parse(TestImages.image(b -> b.putLong(8, 0x0008000000000000L).putLong(16, 0)
                .putLong(24, -1)));
        assertEquals(0x80000, i.textOffset());
        assertEquals(TestImages.FILE_SIZE, i.imageSize(), "the file's length stands for the unknown size");
        assertEquals(0, i.flags());
    }

    @Test
    void gzipCompressedImagesAreInflated() throws Exception {
        byte[] plain = TestImages.image();
        Arm64Image i = Arm64Image.parse(TestImages.gzip(plain));
        assertEquals("Image.gz (gzip)", i.format());
        assertArrayEquals(plain, i.image());
        assertEquals(TestImages.IMAGE_SIZE, i.imageSize());
    }

    @Test
    void efiZbootImagesWithAGzipPayloadAreInflated() throws Exception {
        byte[] plain = TestImages.image();
        Arm64Image i = Arm64Image.parse(TestImages.zboot(TestImages.gzip(plain), "gzip"));
        assertEquals("EFI zboot (gzip)", i.format());
        assertArrayEquals(plain, i.image());
    }

    static void refused(String fragment, byte[] file, int cap) {
        byte[] before = file.clone();
        KernelLoadException e = assertThrows(KernelLoadException.class, () -> Arm64Image.parse(file, cap));
        assertTrue(e.getMessage().contains(fragment), "'" + e.getMessage() + "' should mention '" + fragment + "'");
        assertFalse(e.getMessage().contains("\n"), "one line");
        assertArrayEquals(before, file, "the file is unchanged");
    }

    @Test
    void compressedKernelsAreInflatedOnlyUpToTheCap() throws Exception {
        byte[] bomb = TestImages.gzip(new byte[4 << 20]); // 4 MiB of zeros in ~4 KiB
        refused("Image.gz inflates past 1048576 bytes (1 MiB)", bomb, 1 << 20);
        refused("EFI zboot payload inflates past 1048576 bytes", TestImages.zboot(bomb, "gzip"), 1 << 20);
        byte[] big = Arrays.copyOf(TestImages.image(b -> b.putLong(16, 2 << 20)), 1 << 20);
        assertEquals(1 << 20, Arm64Image.parse(TestImages.gzip(big), 1 << 20).image().length, "exactly the cap is fine");
        assertEquals(256 << 20, Arm64Image.MAX_INFLATED_BYTES, "the default cap");
    }

    @Test
    void badCompressedKernelsAreRefusedInOneLine() {
        byte[] gz = TestImages.gzip(TestImages.image());
        refused("Image.gz is truncated", Arrays.copyOf(gz, gz.length / 2), 1 << 20);
        byte[] corrupt = gz.clone();
        corrupt[gz.length / 2] ^= 0x55;
        corrupt[gz.length / 2 + 1] ^= 0x55;
        refused("Image.gz is not valid gzip", corrupt, 1 << 20);
        refused("EFI zboot payload is compressed with 'zstd'; jvmm inflates gzip only",
                TestImages.zboot(gz, "zstd"), 1 << 20);
        byte[] outside = TestImages.zboot(gz, "gzip");
        java.nio.ByteBuffer.wrap(outside).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(12, Integer.MAX_VALUE);
        refused("EFI zboot payload 0x200+0x7fffffff lies outside the file", outside, 1 << 20);
        refused("not an arm64 Image", TestImages.gzip(new byte[100]), 1 << 20);
    }
}
