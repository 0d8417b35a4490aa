package dev.jvmm.boot.acpi;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The few AML encodings jvmm's DSDT needs (ACPI 6.4 chapter 20): names, integers, strings,
 * packages, scopes, devices and resource templates. Each method returns encoded bytes.
 */
public final class Aml {
    private Aml() {}

    private static final int NAME_OP = 0x08;
    private static final int SCOPE_OP = 0x10;
    private static final int BUFFER_OP = 0x11;
    private static final int PACKAGE_OP = 0x12;
    private static final int STRING_PREFIX = 0x0d;
    private static final int EXT_OP_PREFIX = 0x5b;
    private static final int DEVICE_OP = 0x82;

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** A name path: "\\_SB_" (rooted) or "COM1"; each segment padded to four characters with '_'. */
    public static byte[] nameString(String path) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String rest = path;
        if (rest.startsWith("\\")) {
            out.write('\\');
            rest = rest.substring(1);
        }
        String[] segs = rest.split("\\.");
        if (segs.length == 2) {
            out.write(0x2e); // DualNamePrefix
        } else if (segs.length > 2) {
            out.write(0x2f); // MultiNamePrefix
            out.write(segs.length);
        }
        for (String s : segs) {
            out.writeBytes(nameSeg(s));
        }
        return out.toByteArray();
    }

    /** [A-Z_][A-Z0-9_]{0,3}, checked by hand: a regex here compiled a Pattern per name at every VM start. */
    static boolean isNameSeg(String seg) {
        if (seg.isEmpty() || seg.length() > 4) {
            return false;
        }
        for (int i = 0; i < seg.length(); i++) {
            char c = seg.charAt(i);
            boolean ok = (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    static byte[] nameSeg(String seg) {
        if (!isNameSeg(seg)) {
            throw new IllegalArgumentException("bad AML name segment: " + seg);
        }
        StringBuilder sb = new StringBuilder(seg);
        while (sb.length() < 4) {
            sb.append('_');
        }
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** PkgLength for a body of {@code bodyLength} bytes (the encoding counts its own bytes). */
    static byte[] pkgLength(int bodyLength) {
        if (bodyLength + 1 < 0x40) {
            return new byte[] {(byte) (bodyLength + 1)};
        }
        int len = bodyLength + 2;
        if (len < (1 << 12)) {
            return new byte[] {(byte) (0x40 | (len & 0xf)), (byte) (len >> 4)};
        }
        len = bodyLength + 3;
        if (len < (1 << 20)) {
            return new byte[] {(byte) (0x80 | (len & 0xf)), (byte) (len >> 4), (byte) (len >> 12)};
        }
        len = bodyLength + 4;
        return new byte[] {(byte) (0xc0 | (len & 0xf)), (byte) (len >> 4), (byte) (len >> 12), (byte) (len >> 20)};
    }

    public static byte[] integer(long v) {
        if (v == 0) {
            return new byte[] {0x00};
        }
        if (v == 1) {
            return new byte[] {0x01};
        }
        if (v >= 0 && v <= 0xff) {
            return new byte[] {0x0a, (byte) v};
        }
        if (v >= 0 && v <= 0xffff) {
            return new byte[] {0x0b, (byte) v, (byte) (v >> 8)};
        }
        if (v >= 0 && v <= 0xffffffffL) {
            return new byte[] {0x0c, (byte) v, (byte) (v >> 8), (byte) (v >> 16), (byte) (v >> 24)};
        }
        byte[] b = new byte[9];
        b[0] = 0x0e;
        for (int i = 0; i < 8; i++) {
            b[1 + i] = (byte) (v >>> (8 * i));
        }
        return b;
    }

    public static byte[] string(String s) {
        return concat(new byte[] {STRING_PREFIX}, s.getBytes(StandardCharsets.US_ASCII), new byte[] {0});
    }

    /** EisaId("PNP0501") as the 32-bit integer AML stores. */
    public static long eisaId(String id) {
        if (id.length() != 7) {
            throw new IllegalArgumentException("EISA ID must be 7 characters: " + id);
        }
        int c = ((id.charAt(0) - 0x40) << 10) | ((id.charAt(1) - 0x40) << 5) | (id.charAt(2) - 0x40);
        int product = Integer.parseInt(id.substring(3), 16);
        return ((c >> 8) & 0xff) | ((c & 0xff) << 8) | (((product >> 8) & 0xff) << 16) | ((long) (product & 0xff) << 24);
    }

    public static byte[] name(String name, byte[] value) {
        return concat(new byte[] {NAME_OP}, nameString(name), value);
    }

    public static byte[] pkg(byte[]... elements) {
        byte[] body = concat(new byte[] {(byte) elements.length}, concat(elements));
        return concat(new byte[] {PACKAGE_OP}, pkgLength(body.length), body);
    }

    public static byte[] scope(String name, byte[]... terms) {
        byte[] body = concat(nameString(name), concat(terms));
        return concat(new byte[] {SCOPE_OP}, pkgLength(body.length), body);
    }

    public static byte[] device(String name, byte[]... terms) {
        byte[] body = concat(nameString(name), concat(terms));
        return concat(new byte[] {EXT_OP_PREFIX, (byte) DEVICE_OP}, pkgLength(body.length), body);
    }

    public static byte[] buffer(byte[] data) {
        byte[] body = concat(integer(data.length), data);
        return concat(new byte[] {BUFFER_OP}, pkgLength(body.length), body);
    }

    /** ResourceTemplate(): the descriptors followed by an end tag (checksum 0 means "none"). */
    public static byte[] resourceTemplate(byte[]... descriptors) {
        return buffer(concat(concat(descriptors), new byte[] {0x79, 0x00}));
    }

    /** IO(Decode16, base, base, 1, length). */
    public static byte[] io(int base, int length) {
        return new byte[] {0x47, 0x01, (byte) base, (byte) (base >> 8), (byte) base, (byte) (base >> 8), 0x01,
                (byte) length};
    }

    /** IRQNoFlags(){irq}: edge, active high, exclusive. */
    public static byte[] irqNoFlags(int irq) {
        int mask = 1 << irq;
        return new byte[] {0x22, (byte) mask, (byte) (mask >> 8)};
    }

    /** Memory32Fixed(ReadWrite, base, length). */
    public static byte[] memory32Fixed(long base, long length) {
        return new byte[] {(byte) 0x86, 0x09, 0x00, 0x01, (byte) base, (byte) (base >> 8), (byte) (base >> 16),
                (byte) (base >> 24), (byte) length, (byte) (length >> 8), (byte) (length >> 16), (byte) (length >> 24)};
    }

    /** Interrupt(ResourceConsumer, Edge, ActiveHigh, Exclusive){gsi}. */
    public static byte[] extendedInterrupt(int gsi) {
        return new byte[] {(byte) 0x89, 0x06, 0x00, 0x03, 0x01, (byte) gsi, (byte) (gsi >> 8), (byte) (gsi >> 16),
                (byte) (gsi >> 24)};
    }
}
