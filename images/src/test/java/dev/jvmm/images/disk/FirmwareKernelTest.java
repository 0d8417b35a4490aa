package dev.jvmm.images.disk;

import dev.jvmm.boot.ext4.Ext4;
import dev.jvmm.boot.gpt.Gpt;
import dev.jvmm.boot.gpt.GptPartition;
import dev.jvmm.images.firmware.BootChoice;
import dev.jvmm.images.firmware.Firmware;
import dev.jvmm.images.firmware.FirmwareException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The firmware pass with kernels of both architectures in both layouts: an arm64 Image in COS's
 * KERN partition, an Image.gz as Bottlerocket's vmlinuz (handed over inflated, as GRUB's arm64
 * loader does), an x86_64 vmlinux; the platform words each machine takes; kernels of neither
 * architecture and broken arm64 kernels refused in one line, the image unchanged.
 */
class FirmwareKernelTest {
    @TempDir
    static Path tmp;
    static Path cos;
    static Path br;

    @BeforeAll
    static void images() throws Exception {
        cos = SyntheticImages.build(Layout.COS, "1.0.0", tmp.resolve("cos.img"));
        br = SyntheticImages.build(Layout.BOTTLEROCKET, "1.0.0", tmp.resolve("br.img"));
    }

    /** A 4 KiB arm64 Image: the header (text_offset 0, image_size 64 KiB, 4 KiB pages, anywhere in RAM), then code bytes. */
    static byte[] arm64Image() {
        ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(8, 0).putLong(16, 64 << 10).putLong(24, 0b1010).putInt(0x38, 0x644d5241);
        for (int i = 64; i < 4096; i++) {
            b.put(i, (byte) (i * 7));
        }
        return b.array();
    }

    static byte[] gzip(byte[] data) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(out)) {
            g.write(data);
        }
        return out.toByteArray();
    }

    /** The smallest x86_64 vmlinux: one PT_LOAD of 16 bytes at 1 MiB. */
    static byte[] x86Elf() {
        ByteBuffer b = ByteBuffer.allocate(136).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1});
        b.putShort(16, (short) 2).putShort(18, (short) 62).putInt(20, 1).putLong(24, 0x100000).putLong(32, 64);
        b.putShort(52, (short) 64).putShort(54, (short) 56).putShort(56, (short) 1);
        b.putInt(64, 1).putLong(72, 120).putLong(80, 0x100000).putLong(88, 0x100000).putLong(96, 16).putLong(104, 16);
        return b.array();
    }

    static Path copy(Path img, String name) throws Exception {
        return Files.copy(img, tmp.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }

    static byte[] sha256(Path f) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f));
    }

    static String grubCfg(Path img) throws Exception {
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ)) {
            GptPartition boot = Gpt.read(ch).byName("BOTTLEROCKET-BOOT-A").orElseThrow();
            return new String(Ext4.open(ch, boot.offsetBytes(), boot.sizeBytes()).readFile("/grub/grub.cfg", 1 << 16),
                    StandardCharsets.UTF_8);
        }
    }

    @Test
    void anArm64ImageInKernABootsWithoutX86Words() throws Exception {
        Path img = copy(cos, "cos-arm64.img");
        SyntheticImages.writeKernel(img, "A", arm64Image());
        BootChoice c = Firmware.inspect(img);
        assertArrayEquals(arm64Image(), c.kernel());
        assertTrue(c.cmdline().endsWith(" jvmm.slot=A"), "no i8042 word on an arm64 machine: " + c.cmdline());
    }

    @Test
    void anImageGzInKernIsHandedOverInflated() throws Exception {
        Path img = copy(cos, "cos-arm64-gz.img");
        SyntheticImages.writeKernel(img, "A", gzip(arm64Image()));
        assertArrayEquals(arm64Image(), Firmware.inspect(img).kernel());
    }

    @Test
    void bottlerocketsVmlinuzAsAnImageGzIsReadFromBootAndInflated() throws Exception {
        Path img = copy(br, "br-arm64.img");
        SyntheticImages.writeBoot(img, "A", grubCfg(br), gzip(arm64Image()));
        BootChoice c = Firmware.inspect(img);
        assertArrayEquals(arm64Image(), c.kernel());
        assertTrue(c.cmdline().startsWith("BOOT_IMAGE=(hd0,gpt3)/vmlinuz console=ttyS0 "), c.cmdline());
        assertTrue(c.cmdline().endsWith(" jvmm.slot=A"), c.cmdline());
    }

    @Test
    void anX86KernelKeepsItsPlatformWord() throws Exception {
        Path img = copy(cos, "cos-x86.img");
        SyntheticImages.writeKernel(img, "A", x86Elf());
        BootChoice c = Firmware.inspect(img);
        assertArrayEquals(x86Elf(), c.kernel());
        assertTrue(c.cmdline().endsWith(" jvmm.slot=A " + Firmware.PLATFORM_WORDS), c.cmdline());
    }

    @Test
    void kernelsOfNeitherArchitectureAndBrokenArm64OnesAreRefusedUnchanged() throws Exception {
        byte[] image = arm64Image();
        byte[] gz = gzip(image);
        byte[] bigEndian = image.clone();
        bigEndian[24] |= 1;
        record Bad(String name, byte[] kernel, String says) {}
        for (Bad k : new Bad[] {
                new Bad("zeros", new byte[2048], "neither an x86_64 bzImage or ELF vmlinux nor an arm64 Image"),
                new Bad("an arm64 ELF", elfFor(183), "an ELF vmlinux is not booted on arm64, use its Image"),
                new Bad("an ELF of neither", elfFor(40), "neither an x86_64 bzImage or ELF vmlinux nor an arm64 Image"),
                new Bad("truncated Image.gz", Arrays.copyOf(gz, gz.length / 2), "Image.gz is truncated"),
                new Bad("gzip of no Image", gzip(new byte[4096]), "neither an x86_64 bzImage or ELF vmlinux nor an arm64"),
                new Bad("big-endian Image", bigEndian, "big-endian")}) {
            Path img = copy(cos, "bad.img");
            SyntheticImages.writeKernel(img, "A", k.kernel());
            byte[] before = sha256(img);
            FirmwareException e = assertThrows(FirmwareException.class, () -> Firmware.pass(img), k.name());
            assertTrue(e.getMessage().startsWith("slot A: ") && e.getMessage().contains(k.says()), k.name() + ": " + e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertArrayEquals(before, sha256(img), k.name() + ": a refused pass writes nothing");
        }
    }

    private static byte[] elfFor(int machine) {
        byte[] e = x86Elf();
        e[18] = (byte) machine;
        return e;
    }
}
