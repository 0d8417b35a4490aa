package dev.jvmm.boot.verity;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * dm-verity hash trees, format 1 (Documentation/admin-guide/device-mapper/verity.rst and
 * cryptsetup's on-disk format): sha256, 4096-byte data and hash blocks, a 512-byte superblock
 * in the first hash block, levels stored from the top (nearest the root) down. Each digest is
 * sha256(salt || block); a hash block holds 128 digests, zero-padded.
 */
public final class VerityTree {
    public static final int BLOCK = 4096;
    public static final int DIGEST = 32;
    public static final int PER_BLOCK = BLOCK / DIGEST;
    public static final int MAX_SALT = 256;
    /** Level 0 is held in memory as one array: more data blocks than this are refused, not overflowed. */
    public static final long MAX_BLOCKS = Integer.MAX_VALUE / DIGEST;
    static final byte[] MAGIC = "verity\0\0".getBytes(StandardCharsets.US_ASCII);

    /** What a table line needs: sizes, root hash and salt. */
    public record Params(long dataBlocks, byte[] rootHash, byte[] salt, byte[] uuid) {
        public String rootHex() {
            return HexFormat.of().formatHex(rootHash);
        }

        public String saltHex() {
            return HexFormat.of().formatHex(salt);
        }

        /** Hash blocks after the superblock. */
        public long treeBlocks() {
            long total = 0;
            for (long n : levelSizes(dataBlocks)) {
                total += n;
            }
            return total;
        }

        /** Bytes the hash area needs: superblock block plus tree. */
        public long hashAreaBytes() {
            return (1 + treeBlocks()) * BLOCK;
        }
    }

    private VerityTree() {}

    /**
     * Hash blocks per level, level 0 (over the data) first. Levels are added while more than
     * one block remains, so a single data block has no tree: its own hash is the root.
     */
    static List<Long> levelSizes(long dataBlocks) {
        List<Long> sizes = new ArrayList<>();
        long n = dataBlocks;
        while (n > 1) {
            n = (n + PER_BLOCK - 1) / PER_BLOCK;
            sizes.add(n);
        }
        return sizes;
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] hash(MessageDigest md, byte[] salt, byte[] block) {
        md.reset();
        md.update(salt);
        md.update(block);
        return md.digest();
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, pos + b.position());
            if (n < 0) {
                throw new IOException("unexpected end of file at " + (pos + b.position()));
            }
        }
        b.flip();
    }

    /** Level-0 digests of {@code dataBlocks} blocks starting at byte {@code dataOffset}. */
    static byte[] dataDigests(FileChannel ch, long dataOffset, long dataBlocks, byte[] salt) throws IOException {
        if (dataBlocks < 1 || dataBlocks > MAX_BLOCKS) {
            throw new IllegalArgumentException("data area of " + dataBlocks + " blocks: callers check 1.." + MAX_BLOCKS);
        }
        MessageDigest md = sha256();
        byte[] out = new byte[(int) (dataBlocks * DIGEST)];
        ByteBuffer buf = ByteBuffer.allocate(BLOCK * 64);
        byte[] block = new byte[BLOCK];
        for (long i = 0; i < dataBlocks; ) {
            int n = (int) Math.min(64, dataBlocks - i);
            buf.clear().limit(n * BLOCK);
            readFully(ch, buf, dataOffset + i * BLOCK);
            for (int j = 0; j < n; j++) {
                buf.get(block);
                System.arraycopy(hash(md, salt, block), 0, out, (int) ((i + j) * DIGEST), DIGEST);
            }
            i += n;
        }
        return out;
    }

    /** Packs digests into zero-padded hash blocks. */
    static byte[] toBlocks(byte[] digests) {
        long count = digests.length / DIGEST;
        int blocks = (int) ((count + PER_BLOCK - 1) / PER_BLOCK);
        return Arrays.copyOf(digests, blocks * BLOCK);
    }

    /** All levels as hash blocks, level 0 first, and the root hash. */
    record Tree(List<byte[]> levels, byte[] root) {}

    static Tree compute(FileChannel ch, long dataOffset, long dataBlocks, byte[] salt) throws IOException {
        MessageDigest md = sha256();
        List<byte[]> levels = new ArrayList<>();
        if (dataBlocks == 1) {
            return new Tree(levels, Arrays.copyOf(dataDigests(ch, dataOffset, 1, salt), DIGEST));
        }
        byte[] level = toBlocks(dataDigests(ch, dataOffset, dataBlocks, salt));
        levels.add(level);
        while (level.length > BLOCK) {
            int blocks = level.length / BLOCK;
            byte[] digests = new byte[blocks * DIGEST];
            for (int i = 0; i < blocks; i++) {
                System.arraycopy(hash(md, salt, Arrays.copyOfRange(level, i * BLOCK, (i + 1) * BLOCK)), 0, digests,
                        i * DIGEST, DIGEST);
            }
            level = toBlocks(digests);
            levels.add(level);
        }
        return new Tree(levels, hash(md, salt, level));
    }

    static byte[] superblock(Params p) {
        ByteBuffer b = ByteBuffer.allocate(BLOCK).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, MAGIC).putInt(8, 1).putInt(12, 1);
        b.put(16, p.uuid());
        b.put(32, "sha256".getBytes(StandardCharsets.US_ASCII));
        b.putInt(64, BLOCK).putInt(68, BLOCK).putLong(72, p.dataBlocks());
        b.putShort(80, (short) p.salt().length);
        b.put(88, p.salt());
        return b.array();
    }

    /**
     * Builds the tree over {@code dataBlocks} blocks at {@code dataOffset} of {@code data} and
     * writes superblock and tree at {@code hashOffset} of {@code hash} (which may be the same
     * file). The caller checks the hash area has {@link Params#hashAreaBytes()} of room.
     */
    public static Params format(FileChannel data, long dataOffset, long dataBlocks, FileChannel hash, long hashOffset,
                                byte[] salt, byte[] uuid) throws IOException {
        if (salt.length > MAX_SALT || uuid.length != 16 || dataBlocks < 1 || dataBlocks > MAX_BLOCKS) {
            throw new IllegalArgumentException("bad verity parameters");
        }
        Tree t = compute(data, dataOffset, dataBlocks, salt);
        Params p = new Params(dataBlocks, t.root(), salt.clone(), uuid.clone());
        long pos = hashOffset;
        pos += write(hash, superblock(p), pos);
        for (int i = t.levels().size() - 1; i >= 0; i--) {
            pos += write(hash, t.levels().get(i), pos);
        }
        return p;
    }

    private static int write(FileChannel ch, byte[] data, long pos) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(data);
        while (b.hasRemaining()) {
            ch.write(b, pos + b.position());
        }
        return data.length;
    }

    /** Reads the superblock at {@code hashOffset}; throws with the reason if it is not one. */
    public static Params readSuperblock(FileChannel hash, long hashOffset) throws IOException, VerityException {
        ByteBuffer b = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
        readFully(hash, b, hashOffset);
        byte[] magic = new byte[8];
        b.get(0, magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new VerityException("no verity superblock at offset " + hashOffset);
        }
        String alg = new String(b.array(), 32, 32, StandardCharsets.US_ASCII).replace("\0", "");
        if (b.getInt(8) != 1 || b.getInt(12) != 1 || !alg.equals("sha256") || b.getInt(64) != BLOCK
                || b.getInt(68) != BLOCK) {
            throw new VerityException("unsupported verity superblock (jvmm handles format 1, sha256, 4096/4096)");
        }
        int saltSize = b.getShort(80) & 0xffff;
        if (saltSize > MAX_SALT) {
            throw new VerityException("verity salt size " + saltSize + " is invalid");
        }
        long blocks = b.getLong(72);
        if (blocks < 1 || blocks > MAX_BLOCKS) {
            throw new VerityException("verity superblock claims " + Long.toUnsignedString(blocks) + " data blocks (1 to "
                    + MAX_BLOCKS + " accepted)");
        }
        return new Params(blocks, null, Arrays.copyOfRange(b.array(), 88, 88 + saltSize),
                Arrays.copyOfRange(b.array(), 16, 32));
    }

    /**
     * Checks data and tree against {@code rootHash}. Returns normally when everything matches;
     * otherwise names the first data block (or tree level) that does not.
     */
    public static void verify(FileChannel data, long dataOffset, FileChannel hash, long hashOffset, byte[] rootHash)
            throws IOException, VerityException {
        Params sb = readSuperblock(hash, hashOffset);
        verifyTree(data, dataOffset, sb.dataBlocks(), hash, hashOffset + BLOCK, sb.salt(), rootHash);
    }

    /**
     * Checks a slot as the guest's kernel will: with the table's block count, salt, root hash
     * and hash start, on {@code data} and {@code hash} (windows onto the partitions the table
     * names). The superblock before the tree must agree with the table, so that veritysetup and
     * jvmm's other readers see the same tree; any difference is refused, naming the field.
     */
    public static void verify(FileChannel data, FileChannel hash, VerityTable t) throws IOException, VerityException {
        if (t.dataBlocks() > MAX_BLOCKS || t.dataBlocks() > data.size() / BLOCK) {
            throw new VerityException("the verity table covers " + t.dataBlocks() + " data blocks but the data partition "
                    + "holds " + data.size() / BLOCK);
        }
        if (t.hashStartBlock() < 1) {
            throw new VerityException("the verity table's hash start block 0 leaves no room for the superblock before it");
        }
        if (t.hashStartBlock() >= hash.size() / BLOCK) {
            throw new VerityException("hash partition too small (" + hash.size() / BLOCK + " blocks) for the verity "
                    + "table's hash start block " + t.hashStartBlock());
        }
        Params sb = readSuperblock(hash, (t.hashStartBlock() - 1) * BLOCK);
        if (sb.dataBlocks() != t.dataBlocks()) {
            throw new VerityException("the verity superblock says " + sb.dataBlocks() + " data blocks but the table the "
                    + "kernel uses says " + t.dataBlocks());
        }
        if (!Arrays.equals(sb.salt(), t.salt())) {
            throw new VerityException("the verity superblock's salt differs from the salt in the table the kernel uses");
        }
        verifyTree(data, 0, t.dataBlocks(), hash, t.hashStartBlock() * BLOCK, t.salt(), t.rootHash());
    }

    /** Checks {@code dataBlocks} blocks and the tree stored from {@code treeOffset} (top level first). */
    private static void verifyTree(FileChannel data, long dataOffset, long dataBlocks, FileChannel hash, long treeOffset,
                                   byte[] salt, byte[] rootHash) throws IOException, VerityException {
        if (dataBlocks < 1 || dataBlocks > MAX_BLOCKS || dataOffset < 0
                || dataBlocks > (data.size() - Math.min(dataOffset, data.size())) / BLOCK) {
            throw new VerityException("verity covers " + dataBlocks + " blocks but the data area is smaller");
        }
        List<Long> sizes = levelSizes(dataBlocks);
        long treeBlocks = sizes.stream().mapToLong(Long::longValue).sum();
        if (treeOffset < 0 || treeBlocks > (hash.size() - Math.min(treeOffset, hash.size())) / BLOCK) {
            throw new VerityException("hash area too small: the tree needs " + (1 + treeBlocks) * BLOCK + " bytes");
        }
        // Stored levels, top first.
        List<byte[]> stored = new ArrayList<>();
        long pos = treeOffset;
        for (int i = sizes.size() - 1; i >= 0; i--) {
            ByteBuffer b = ByteBuffer.allocate((int) (sizes.get(i) * BLOCK));
            readFully(hash, b, pos);
            stored.add(0, b.array());
            pos += sizes.get(i) * BLOCK;
        }
        MessageDigest md = sha256();
        byte[] digests = dataDigests(data, dataOffset, dataBlocks, salt);
        if (stored.isEmpty()) { // one data block: its hash is the root
            if (!Arrays.equals(Arrays.copyOf(digests, DIGEST), rootHash)) {
                throw new VerityException("data block 0 fails verity: its hash is not the root hash");
            }
            return;
        }
        byte[] top = stored.get(stored.size() - 1);
        if (!Arrays.equals(hash(md, salt, top), rootHash)) {
            throw new VerityException("verity root hash mismatch: the tree's top block does not hash to the expected root");
        }
        for (int lvl = stored.size() - 1; lvl > 0; lvl--) {
            byte[] upper = stored.get(lvl);
            byte[] lower = stored.get(lvl - 1);
            for (int i = 0; i < lower.length / BLOCK; i++) {
                byte[] d = hash(md, salt, Arrays.copyOfRange(lower, i * BLOCK, (i + 1) * BLOCK));
                if (!Arrays.equals(d, Arrays.copyOfRange(upper, i * DIGEST, (i + 1) * DIGEST))) {
                    throw new VerityException("verity tree level " + (lvl - 1) + " block " + i + " does not match its parent");
                }
            }
        }
        byte[] level0 = stored.get(0);
        for (long i = 0; i < dataBlocks; i++) {
            int o = (int) (i * DIGEST);
            if (!Arrays.equals(digests, o, o + DIGEST, level0, o, o + DIGEST)) {
                throw new VerityException("data block " + i + " (byte offset " + (i * BLOCK) + ") fails verity: its hash "
                        + "does not match the tree");
            }
        }
    }
}
