package dev.jvmm.boot.arm64;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Consumer;
import java.util.zip.GZIPOutputStream;

/** Small arm64 Images built by hand for the tests: a header as booting.rst lays it out, and a body. */
final class TestImages {
    private TestImages() {}

    static final int FILE_SIZE = 8192;
    static final long IMAGE_SIZE = 0x10000;
    /** little-endian, 4 KiB pages, place anywhere */
    static final long FLAGS = 0b1010;
    /** "b #0x40" (to the end of the header), as a kernel's code0 branches to stext */
    static final int CODE0 = 0x14000010;

    /** A 6.1-style Image: text_offset 0, image_size 64 KiB (text, data and bss), 8 KiB of file. */
    static byte[] image() {
        ByteBuffer b = ByteBuffer.allocate(FILE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, CODE0).putLong(8, 0).putLong(16, IMAGE_SIZE).putLong(24, FLAGS).putInt(0x38, Arm64Image.MAGIC);
        for (int i = 64; i < FILE_SIZE; i++) {
            b.put(i, (byte) (i * 7));
        }
        return b.array();
    }

    static byte[] image(Consumer<ByteBuffer> spoil) {
        byte[] f = image();
        spoil.accept(ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN));
        return f;
    }

    static byte[] gzip(byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /**
     * An EFI zboot image as CONFIG_EFI_ZBOOT lays one out (drivers/firmware/efi/libstub/zboot-header.S):
     * "MZ", "zimg", payload offset and size, the compression type at 24; the payload after a
     * stand-in for the PE header and stub.
     */
    static byte[] zboot(byte[] payload, String type) {
        int offset = 0x200;
        ByteBuffer b = ByteBuffer.allocate(offset + payload.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, (byte) 'M').put(1, (byte) 'Z').put(4, (byte) 'z').put(5, (byte) 'i').put(6, (byte) 'm').put(7, (byte) 'g');
        b.putInt(8, offset).putInt(12, payload.length);
        for (int i = 0; i < type.length(); i++) {
            b.put(24 + i, (byte) type.charAt(i));
        }
        b.put(offset, payload);
        return b.array();
    }
}
