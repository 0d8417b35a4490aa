package dev.jvmm.boot.gpt;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;

/**
 * A GUID as GPT stores it: the first three fields little-endian, the last two big-endian
 * (UEFI 2.10, appendix A), so the text form matches sgdisk and cgpt.
 */
public final class Guid {
    public static final Guid ZERO = new Guid(new byte[16]);

    private final byte[] bytes;

    private Guid(byte[] bytes) {
        this.bytes = bytes.clone();
    }

    public static Guid fromBytes(byte[] b, int off) {
        return new Guid(Arrays.copyOfRange(b, off, off + 16));
    }

    public static Guid parse(String text) {
        String s = text.trim();
        if (!s.matches("(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")) {
            throw new IllegalArgumentException("not a GUID: " + text);
        }
        byte[] raw = HexFormat.of().parseHex(s.replace("-", ""));
        ByteBuffer out = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer in = ByteBuffer.wrap(raw);
        out.putInt(in.getInt()).putShort(in.getShort()).putShort(in.getShort());
        out.put(raw, 8, 8);
        return new Guid(out.array());
    }

    /** A random-looking but reproducible version-4 GUID derived from {@code seed}. */
    public static Guid derive(String seed) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(seed.getBytes(StandardCharsets.UTF_8));
            byte[] b = Arrays.copyOf(h, 16);
            b[7] = (byte) ((b[7] & 0x0f) | 0x40); // version 4 (in the little-endian third field)
            b[8] = (byte) ((b[8] & 0x3f) | 0x80); // RFC 4122 variant
            return new Guid(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public byte[] bytes() {
        return bytes.clone();
    }

    public boolean isZero() {
        return equals(ZERO);
    }

    @Override
    public String toString() {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        return String.format(Locale.ROOT, "%08X-%04X-%04X-%s", in.getInt(0), in.getShort(4) & 0xffff,
                in.getShort(6) & 0xffff, HexFormat.of().withUpperCase().formatHex(bytes, 8, 10) + "-"
                        + HexFormat.of().withUpperCase().formatHex(bytes, 10, 16));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Guid g && Arrays.equals(bytes, g.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }
}
