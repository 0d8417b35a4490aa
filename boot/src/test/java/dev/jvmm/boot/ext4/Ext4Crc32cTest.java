package dev.jvmm.boot.ext4;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The chainable CRC32C agrees with the JDK's (which is the same function with pre- and post-inversion). */
class Ext4Crc32cTest {
    @Test
    void checkValueOfTheStandard() {
        byte[] b = "123456789".getBytes(StandardCharsets.US_ASCII);
        assertEquals(0xE3069283, ~Crc32c.update(~0, b));
    }

    @Test
    void agreesWithTheJdkAndChains() {
        for (int n : new int[] {0, 1, 7, 64, 1000, 4096}) {
            byte[] b = Ext4Images.random(n, n);
            CRC32C jdk = new CRC32C();
            jdk.update(b);
            assertEquals((int) jdk.getValue(), ~Crc32c.update(~0, b), "length " + n);
            int half = n / 2;
            int chained = Crc32c.update(Crc32c.update(~0, Arrays.copyOf(b, half)), Arrays.copyOfRange(b, half, n));
            assertEquals(Crc32c.update(~0, b), chained, "length " + n);
        }
    }

    @Test
    void littleEndianIntsFoldInLikeTheirBytes() {
        assertEquals(Crc32c.update(5, new byte[] {0x78, 0x56, 0x34, 0x12}), Crc32c.updateInt(5, 0x12345678));
    }
}
