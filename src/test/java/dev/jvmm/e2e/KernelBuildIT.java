package dev.jvmm.e2e;

import dev.jvmm.boot.arm64.Arm64Image;
import dev.jvmm.images.kernel.ConfigCheck;
import dev.jvmm.images.kernel.KernelBuilder;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KernelBuildIT {
    @Test
    void buildPrintsBothImagesAndEveryFragmentOptionSticks() throws Exception {
        Path[] k = Jvmm.kernel();
        assertTrue(k[0] != null && k[0].isAbsolute() && Files.isRegularFile(k[0]), "vmlinux line: " + k[0]);
        assertTrue(k[1] != null && k[1].isAbsolute() && Files.isRegularFile(k[1]), "bzImage line: " + k[1]);
        String config = Files.readString(k[0].resolveSibling("config"));
        String fragment = new String(KernelBuilder.resource("x86_64.config"));
        List<String> bad = ConfigCheck.unsatisfied(fragment, config);
        assertEquals(List.of(), bad, "fragment options missing from the final .config");
        Jvmm.Result again = Jvmm.run(60, "kernel", "build");
        assertEquals(0, again.status());
        assertTrue(again.millis() < 30_000, "second call reuses the cache");
    }

    /**
     * The arm64 kernel, cross-compiled (about 20 minutes on 2 cores the first time): both lines
     * printed, every fragment option in the final .config, an aarch64 ELF vmlinux, and an Image
     * whose header jvmm parses, as it does the Image.gz built beside it.
     */
    @Test
    void aarch64BuildPrintsImageAndVmlinuxAndEveryFragmentOptionSticks() throws Exception {
        Jvmm.Result r = Jvmm.run(3600, "kernel", "build", "--arch", "aarch64");
        assertEquals(0, r.status(), r.all());
        Path vmlinux = null;
        Path image = null;
        for (String line : r.out().split("\n")) {
            if (line.startsWith("vmlinux ")) {
                vmlinux = Path.of(line.substring(8).trim());
            } else if (line.startsWith("Image ")) {
                image = Path.of(line.substring(6).trim());
            }
        }
        assertTrue(vmlinux != null && vmlinux.isAbsolute() && Files.isRegularFile(vmlinux), "vmlinux line: " + r.out());
        assertTrue(image != null && image.isAbsolute() && Files.isRegularFile(image), "Image line: " + r.out());
        String config = Files.readString(vmlinux.resolveSibling("config"));
        String fragment = new String(KernelBuilder.resource("aarch64.config"));
        assertEquals(List.of(), ConfigCheck.unsatisfied(fragment, config), "fragment options missing from the final .config");
        byte[] elf = new byte[64];
        try (var in = Files.newInputStream(vmlinux)) {
            assertEquals(64, in.readNBytes(elf, 0, 64));
        }
        assertEquals(183, ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN).getShort(18), "EM_AARCH64 vmlinux");
        Arm64Image parsed = Arm64Image.parse(Files.readAllBytes(image));
        assertEquals(0, parsed.textOffset(), "6.1 kernels have text_offset 0");
        assertEquals(4, parsed.pageSizeKiB());
        assertTrue(parsed.imageSize() > Files.size(image), "image_size counts the bss too");
        Arm64Image gz = Arm64Image.parse(Files.readAllBytes(image.resolveSibling("Image.gz")));
        assertEquals(parsed.imageSize(), gz.imageSize());
        assertEquals(Files.size(image), gz.image().length);
        Jvmm.Result again = Jvmm.run(60, "kernel", "build", "--arch", "aarch64");
        assertEquals(0, again.status());
        assertTrue(again.millis() < 30_000, "second call reuses the cache");
    }
}
