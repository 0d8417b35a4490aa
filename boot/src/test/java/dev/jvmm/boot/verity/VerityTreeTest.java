package dev.jvmm.boot.verity;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VerityTreeTest {
    @TempDir
    Path tmp;

    static final byte[] SALT = HexFormat.of().parseHex("a4b5c6d7e8f90112".repeat(4));
    static final byte[] UUID = HexFormat.of().parseHex("0123456789abcdef0123456789abcdef");

    Path data(int blocks, long seed) throws Exception {
        Path f = tmp.resolve("data-" + blocks);
        byte[] b = new byte[blocks * VerityTree.BLOCK];
        new Random(seed).nextBytes(b);
        // some all-zero blocks, as file systems have
        java.util.Arrays.fill(b, 0, Math.min(b.length, 3 * VerityTree.BLOCK), (byte) 0);
        Files.write(f, b);
        return f;
    }

    VerityTree.Params format(Path data, Path hash, long blocks) throws Exception {
        try (FileChannel d = FileChannel.open(data, StandardOpenOption.READ);
             FileChannel h = FileChannel.open(hash, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            return VerityTree.format(d, 0, blocks, h, 0, SALT, UUID);
        }
    }

    static String sh(String... argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        int rc = p.waitFor();
        return rc + "\n" + out;
    }

    @Test
    void levelSizes() {
        assertEquals(java.util.List.of(), VerityTree.levelSizes(1), "one block: no tree, its hash is the root");
        assertEquals(java.util.List.of(1L), VerityTree.levelSizes(128));
        assertEquals(java.util.List.of(2L, 1L), VerityTree.levelSizes(129));
        assertEquals(java.util.List.of(129L, 2L, 1L), VerityTree.levelSizes(128 * 128 + 1));
    }

    @Test
    void veritysetupAgreesWithOurTreeAndRootHash() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/sbin/veritysetup")), "veritysetup (cryptsetup-bin) is needed");
        for (int blocks : new int[] {1, 128, 129, 1000}) {
            Path data = data(blocks, blocks);
            Path hash = tmp.resolve("hash-" + blocks);
            VerityTree.Params p = format(data, hash, blocks);
            assertEquals(p.hashAreaBytes(), Files.size(hash), "superblock plus tree");
            String verify = sh("veritysetup", "verify", data.toString(), hash.toString(), p.rootHex());
            assertTrue(verify.startsWith("0\n"), blocks + " blocks: veritysetup verify: " + verify);
            Path theirs = tmp.resolve("theirs-" + blocks);
            String fmt = sh("veritysetup", "format", "--format=1", "--hash=sha256", "--data-block-size=4096",
                    "--hash-block-size=4096", "--salt=" + p.saltHex(), "--uuid=01234567-89ab-cdef-0123-456789abcdef",
                    data.toString(), theirs.toString());
            Matcher m = Pattern.compile("Root hash:\\s+([0-9a-f]{64})").matcher(fmt);
            assertTrue(m.find(), fmt);
            assertEquals(m.group(1), p.rootHex(), blocks + " blocks: same salt, same root hash");
            assertTrue(java.util.Arrays.equals(Files.readAllBytes(theirs), Files.readAllBytes(hash)),
                    blocks + " blocks: byte-identical hash device");
        }
    }

    @Test
    void aFlippedDataByteIsFoundAndNamed() throws Exception {
        Path data = data(300, 7);
        Path hash = tmp.resolve("hash");
        VerityTree.Params p = format(data, hash, 300);
        try (FileChannel d = FileChannel.open(data, StandardOpenOption.READ);
             FileChannel h = FileChannel.open(hash, StandardOpenOption.READ)) {
            VerityTree.verify(d, 0, h, 0, p.rootHash()); // intact: no exception
        }
        try (FileChannel d = FileChannel.open(data, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            d.read(one, 200L * VerityTree.BLOCK + 17);
            one.put(0, (byte) (one.get(0) ^ 0x01)).rewind();
            d.write(one, 200L * VerityTree.BLOCK + 17);
        }
        try (FileChannel d = FileChannel.open(data, StandardOpenOption.READ);
             FileChannel h = FileChannel.open(hash, StandardOpenOption.READ)) {
            VerityException e = assertThrows(VerityException.class, () -> VerityTree.verify(d, 0, h, 0, p.rootHash()));
            assertTrue(e.getMessage().contains("data block 200"), e.getMessage());
        }
    }

    @Test
    void wrongRootOrDamagedTreeOrTruncatedHashAreaFail() throws Exception {
        Path data = data(300, 9);
        Path hash = tmp.resolve("hash");
        VerityTree.Params p = format(data, hash, 300);
        byte[] wrong = p.rootHash().clone();
        wrong[0] ^= 1;
        try (FileChannel d = FileChannel.open(data, StandardOpenOption.READ);
             FileChannel h = FileChannel.open(hash, StandardOpenOption.READ)) {
            VerityException e = assertThrows(VerityException.class, () -> VerityTree.verify(d, 0, h, 0, wrong));
            assertTrue(e.getMessage().contains("root hash mismatch"), e.getMessage());
        }
        try (FileChannel h = FileChannel.open(hash, StandardOpenOption.WRITE)) {
            h.truncate(2 * VerityTree.BLOCK);
        }
        try (FileChannel d = FileChannel.open(data, StandardOpenOption.READ);
             FileChannel h = FileChannel.open(hash, StandardOpenOption.READ)) {
            VerityException e = assertThrows(VerityException.class, () -> VerityTree.verify(d, 0, h, 0, p.rootHash()));
            assertTrue(e.getMessage().contains("hash area too small"), e.getMessage());
        }
    }
}
