package dev.jvmm.boot.fdt;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A device tree being built, and its flattened form (DTB version 17): header, memory
 * reservation map, structure block and strings block, in that order, as the Devicetree
 * Specification (chapter 5) and dtc lay them out. The size limit is enforced while nodes and
 * properties are added, so an oversized tree is refused before it is held in memory.
 */
public final class DeviceTree {
    /** arm64 booting.rst: the DTB "must not exceed 2 megabytes in size". */
    public static final int MAX_DTB_BYTES = 2 << 20;
    public static final int MAGIC = 0xd00dfeed;
    public static final int VERSION = 17;
    public static final int LAST_COMPATIBLE_VERSION = 16;
    public static final int HEADER_SIZE = 40;
    static final int FDT_BEGIN_NODE = 1;
    static final int FDT_END_NODE = 2;
    static final int FDT_PROP = 3;
    static final int FDT_END = 9;
    /** The largest phandle: 0 and 0xffffffff are reserved. */
    static final int MAX_PHANDLE = 0xfffffffe;

    /** One entry of the memory reservation map: memory the kernel must not use. */
    public record Reservation(long address, long size) {}

    private final int maxBytes;
    private final FdtNode root;
    private final List<Reservation> reservations = new ArrayList<>();
    private int bootCpu;
    private int nextPhandle = 1;
    /** An upper bound of the blob's size so far (strings counted once per use). */
    private long bound = HEADER_SIZE + 16 + 8 + 4;

    public DeviceTree() {
        this(MAX_DTB_BYTES);
    }

    public DeviceTree(int maxBytes) {
        if (maxBytes < HEADER_SIZE + 16 + 8 + 4 || maxBytes > MAX_DTB_BYTES) {
            throw new FdtException("device tree size limit " + maxBytes + " is outside " + (HEADER_SIZE + 28) + ".."
                    + MAX_DTB_BYTES);
        }
        this.maxBytes = maxBytes;
        this.root = new FdtNode(this, "", "/");
    }

    public FdtNode root() {
        return root;
    }

    /** The node at an absolute path such as "/cpus/cpu@0", or null. */
    public FdtNode find(String path) {
        if (!path.startsWith("/")) {
            return null;
        }
        FdtNode n = root;
        for (String part : path.substring(1).split("/")) {
            if (part.isEmpty()) {
                continue;
            }
            n = n.child(part);
            if (n == null) {
                return null;
            }
        }
        return n;
    }

    /** Adds a memory reservation map entry; the map ends with a zero entry, so size 0 is refused. */
    public DeviceTree reserve(long address, long size) {
        if (size <= 0 || address < 0 || address > Long.MAX_VALUE - size) {
            throw new FdtException(String.format("memory reservation 0x%x+0x%x is empty or wraps", address, size));
        }
        grow(16, "the memory reservation map");
        reservations.add(new Reservation(address, size));
        return this;
    }

    public List<Reservation> reservations() {
        return List.copyOf(reservations);
    }

    /** The header's boot_cpuid_phys: the reg value of the CPU that boots. */
    public DeviceTree bootCpu(int physicalId) {
        this.bootCpu = physicalId;
        return this;
    }

    int nextPhandle(String path) {
        if (nextPhandle == 0 || Integer.compareUnsigned(nextPhandle, MAX_PHANDLE) > 0) {
            throw new FdtException("no phandle left for " + path);
        }
        return nextPhandle++;
    }

    void grow(long bytes, String where) {
        bound += bytes;
        if (bound > maxBytes) {
            throw new FdtException("device tree would exceed " + maxBytes + " bytes (adding to " + where + ")");
        }
    }

    /** The flattened tree. */
    public byte[] toDtb() {
        Strings strings = new Strings();
        ByteArrayOutputStream struct = new ByteArrayOutputStream();
        writeNode(root, struct, strings);
        putInt(struct, FDT_END);
        byte[] structBlock = struct.toByteArray();
        byte[] stringsBlock = strings.bytes();

        int rsvmapOffset = (HEADER_SIZE + 7) & ~7;
        int rsvmapSize = 16 * (reservations.size() + 1);
        int structOffset = rsvmapOffset + rsvmapSize;
        int stringsOffset = structOffset + structBlock.length;
        long total = (long) stringsOffset + stringsBlock.length;
        if (total > maxBytes) {
            throw new FdtException("device tree is " + total + " bytes; the limit is " + maxBytes);
        }
        ByteBuffer b = ByteBuffer.allocate((int) total); // big-endian, as the format is
        b.putInt(MAGIC).putInt((int) total).putInt(structOffset).putInt(stringsOffset).putInt(rsvmapOffset)
                .putInt(VERSION).putInt(LAST_COMPATIBLE_VERSION).putInt(bootCpu).putInt(stringsBlock.length)
                .putInt(structBlock.length);
        b.position(rsvmapOffset);
        for (Reservation r : reservations) {
            b.putLong(r.address()).putLong(r.size());
        }
        b.putLong(0).putLong(0);
        b.put(structBlock).put(stringsBlock);
        return b.array();
    }

    private static void writeNode(FdtNode node, ByteArrayOutputStream out, Strings strings) {
        putInt(out, FDT_BEGIN_NODE);
        putPadded(out, (node.name() + "\0").getBytes(StandardCharsets.US_ASCII));
        for (Map.Entry<String, byte[]> p : node.rawProperties().entrySet()) {
            putInt(out, FDT_PROP);
            putInt(out, p.getValue().length);
            putInt(out, strings.offset(p.getKey()));
            putPadded(out, p.getValue());
        }
        for (FdtNode child : node.children()) {
            writeNode(child, out, strings);
        }
        putInt(out, FDT_END_NODE);
    }

    private static void putInt(ByteArrayOutputStream out, int v) {
        out.write(v >>> 24);
        out.write(v >>> 16);
        out.write(v >>> 8);
        out.write(v);
    }

    private static void putPadded(ByteArrayOutputStream out, byte[] v) {
        out.writeBytes(v);
        for (int i = v.length; i % 4 != 0; i++) {
            out.write(0);
        }
    }

    /**
     * The strings block. A name already present, whole or as the tail of a longer name, is not
     * stored again: dtc does the same, which keeps blobs byte-identical to dtc's.
     */
    static final class Strings {
        private final StringBuilder block = new StringBuilder();

        int offset(String name) {
            String nul = name + "\0";
            int at = block.indexOf(nul); // the first place any stored name ends with this one
            if (at >= 0) {
                return at;
            }
            int offset = block.length();
            block.append(nul);
            return offset;
        }

        byte[] bytes() {
            return block.toString().getBytes(StandardCharsets.US_ASCII);
        }
    }
}
