package dev.jvmm.boot.arm64;

import dev.jvmm.boot.KernelLoadException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A corpus of hostile arm64 Image headers, one row each, the arm64 twin of the x86
 * KernelImageHostileTest: each is refused by the parser or the load plan with one line naming
 * the field, the file unchanged, and nothing but a KernelLoadException thrown.
 */
class Arm64ImageHostileTest {
    record Case(String name, byte[] file, String fragment) {}

    static Case c(String name, Consumer<ByteBuffer> spoil, String fragment) {
        return new Case(name, TestImages.image(spoil), fragment);
    }

    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        c.add(new Case("empty file", new byte[0], "too small"));
        c.add(new Case("63 bytes", new byte[63], "too small"));
        c.add(new Case("an ELF vmlinux", elf(), "ELF vmlinux is not booted on arm64"));
        c.add(c("no magic", b -> b.putInt(0x38, 0), "magic at 0x38 is 0x00000000"));
        c.add(c("big-endian magic", b -> b.putInt(0x38, Integer.reverseBytes(Arm64Image.MAGIC)), "magic at 0x38"));
        c.add(c("an x86 bzImage's magic instead", b -> b.putInt(0x38, 0x53726448), "not an arm64 Image"));
        c.add(c("big-endian kernel", b -> b.putLong(24, TestImages.FLAGS | 1), "big-endian kernel"));
        c.add(c("text_offset 2 MiB", b -> b.putLong(8, 2L << 20), "text_offset 0x200000"));
        c.add(c("text_offset not page aligned", b -> b.putLong(8, 0x80010), "text_offset 0x80010"));
        c.add(c("text_offset negative", b -> b.putLong(8, -4096), "text_offset 0xfffffffffffff000"));
        c.add(c("text_offset 2^63-4096", b -> b.putLong(8, Long.MAX_VALUE & ~0xfffL), "text_offset"));
        c.add(c("image_size negative", b -> b.putLong(16, -1), "image_size 0xffffffffffffffff"));
        c.add(c("image_size 2^62", b -> b.putLong(16, 1L << 62), "image_size 0x4000000000000000 is past"));
        c.add(c("image_size just past 1 GiB", b -> b.putLong(16, (1L << 30) + 4096), "image_size"));
        c.add(c("image_size below the file", b -> b.putLong(16, 4096), "image_size 0x1000 is smaller than the Image"));
        c.add(c("image_size one byte short", b -> b.putLong(16, TestImages.FILE_SIZE - 1), "smaller than the Image"));
        c.add(new Case("gzip of garbage", TestImages.gzip(new byte[4096]), "not an arm64 Image"));
        c.add(new Case("gzip of an x86 kernel header", TestImages.gzip(elf()), "ELF vmlinux"));
        c.add(new Case("zboot with no payload", TestImages.zboot(new byte[0], "gzip"), "truncated"));
        return c;
    }

    /** The first bytes of an ELF vmlinux (what `jvmm kernel build` also prints for arm64). */
    static byte[] elf() {
        byte[] f = new byte[128];
        f[0] = 0x7f;
        f[1] = 'E';
        f[2] = 'L';
        f[3] = 'F';
        return f;
    }

    @Test
    void hostileHeadersAreEachRefusedInOneLineNamingTheField() {
        List<Case> cases = cases();
        for (Case k : cases) {
            byte[] before = k.file().clone();
            KernelLoadException e = assertThrows(KernelLoadException.class, () -> Arm64Image.parse(k.file()), k.name());
            assertTrue(e.getMessage().contains(k.fragment()), k.name() + ": '" + e.getMessage() + "' should mention '"
                    + k.fragment() + "'");
            assertFalse(e.getMessage().contains("\n"), k.name() + ": one line");
            assertArrayEquals(before, k.file(), k.name() + ": the file is unchanged");
        }
        assertEquals(19, cases.size(), "corpus size");
    }

    @Test
    void imagesThatParseButDoNotFitTheGuestAreRefusedByThePlan() throws Exception {
        Arm64Image big = Arm64Image.parse(TestImages.image(b -> b.putLong(16, 1L << 30)));
        KernelLoadException e = assertThrows(KernelLoadException.class,
                () -> Arm64LoadPlan.plan(Arm64Layout.RAM_BASE, 512 * Arm64Layout.MIB, big, 0));
        assertEquals("the kernel (image_size 1048576 KiB), initrd (0 KiB) and device tree (2 MiB) need 1026 MiB of guest "
                + "RAM; the guest has 512 MiB", e.getMessage());
    }
}
