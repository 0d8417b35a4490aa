package dev.jvmm.boot.fdt;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One node of a {@link DeviceTree}: properties and child nodes, each in the order they were
 * added (the order dtc keeps; the blob puts a node's properties before its children). Every value is encoded as it is added, so a
 * bad one is refused where the caller made it, naming the node's path.
 */
public final class FdtNode {
    /** Devicetree Specification 2.2.1 and 2.2.4: at most 31 characters before any unit address. */
    public static final int MAX_NAME = 31;
    private static final String NODE_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ,._+-";
    private static final String PROPERTY_CHARS = NODE_CHARS + "?#";

    private final DeviceTree tree;
    private final String name;
    private final String path;
    private final Map<String, byte[]> properties = new LinkedHashMap<>();
    private final Map<String, FdtNode> children = new LinkedHashMap<>();
    private int phandle;

    FdtNode(DeviceTree tree, String name, String path) {
        this.tree = tree;
        this.name = name;
        this.path = path;
    }

    /** The name with its unit address ("uart@40002000"); "" for the root. */
    public String name() {
        return name;
    }

    /** "/", or "/parent/name". */
    public String path() {
        return path;
    }

    /** A new child; {@code name} is "base" or "base@unit-address". */
    public FdtNode node(String name) {
        checkNodeName(name);
        if (children.containsKey(name)) {
            throw new FdtException("duplicate node " + name + " in " + path);
        }
        tree.grow(8 + padded(name.length() + 1), path);
        FdtNode child = new FdtNode(tree, name, path.equals("/") ? "/" + name : path + "/" + name);
        children.put(name, child);
        return child;
    }

    /** A new child named "base@unit" with the unit address in lower-case hex, as bindings write it. */
    public FdtNode node(String base, long unitAddress) {
        return node(base + "@" + Long.toHexString(unitAddress));
    }

    /** A property with no value (a flag such as interrupt-controller). */
    public FdtNode empty(String name) {
        return put(name, new byte[0]);
    }

    /** One 32-bit cell; {@code value} must fit in 32 bits unsigned. */
    public FdtNode u32(String name, long value) {
        return cells(name, value);
    }

    /** One 64-bit value, as two cells (high first). */
    public FdtNode u64(String name, long value) {
        return put(name, ByteBuffer.allocate(8).putLong(value).array());
    }

    /** 32-bit cells, big-endian; each must fit in 32 bits unsigned. */
    public FdtNode cells(String name, long... cells) {
        ByteBuffer b = ByteBuffer.allocate(4 * cells.length);
        for (long c : cells) {
            if (c < 0 || c > 0xffff_ffffL) {
                throw new FdtException(String.format("cell value 0x%x of %s in %s does not fit in 32 bits", c, name, path));
            }
            b.putInt((int) c);
        }
        return put(name, b.array());
    }

    /** A NUL-terminated string of printable ASCII. */
    public FdtNode string(String name, String value) {
        return strings(name, value);
    }

    /** A list of NUL-terminated strings (compatible, clock-names...); at least one. */
    public FdtNode strings(String name, String... values) {
        if (values.length == 0) {
            throw new FdtException("string list " + name + " in " + path + " is empty");
        }
        StringBuilder all = new StringBuilder();
        for (String v : values) {
            for (int i = 0; i < v.length(); i++) {
                char c = v.charAt(i);
                if (c < 0x20 || c > 0x7e) {
                    throw new FdtException(String.format("string %s in %s has character 0x%x at %d; device tree strings "
                            + "are printable ASCII", name, path, (int) c, i));
                }
            }
            all.append(v).append('\0');
        }
        return put(name, all.toString().getBytes(StandardCharsets.US_ASCII));
    }

    /** Raw bytes, as given. */
    public FdtNode bytes(String name, byte[] value) {
        return put(name, value.clone());
    }

    /**
     * This node's phandle, assigned (1, 2, ... in the order asked) and written as its "phandle"
     * property the first time; other nodes refer to it by this number.
     */
    public int phandle() {
        if (phandle == 0) {
            int p = tree.nextPhandle(path);
            put("phandle", ByteBuffer.allocate(4).putInt(p).array(), true);
            phandle = p;
        }
        return phandle;
    }

    /** A copy of a property's value, or null. */
    public byte[] property(String name) {
        byte[] v = properties.get(name);
        return v == null ? null : v.clone();
    }

    public List<String> propertyNames() {
        return List.copyOf(properties.keySet());
    }

    public FdtNode child(String name) {
        return children.get(name);
    }

    public List<FdtNode> children() {
        return Collections.unmodifiableList(new ArrayList<>(children.values()));
    }

    Map<String, byte[]> rawProperties() {
        return properties;
    }

    private FdtNode put(String name, byte[] value) {
        return put(name, value, false);
    }

    private FdtNode put(String name, byte[] value, boolean phandleProperty) {
        checkPropertyName(name);
        if (name.equals("phandle") && !phandleProperty) {
            throw new FdtException("phandle of " + path + " is assigned by phandle(), not set by hand");
        }
        if (properties.containsKey(name)) {
            throw new FdtException("duplicate property " + name + " in " + path);
        }
        tree.grow(12 + padded(value.length) + name.length() + 1, path);
        properties.put(name, value);
        return this;
    }

    static int padded(int n) {
        return (n + 3) & ~3;
    }

    private void checkNodeName(String n) {
        int at = n.indexOf('@');
        String base = at < 0 ? n : n.substring(0, at);
        if (base.isEmpty() || base.length() > MAX_NAME) {
            throw new FdtException("node name '" + n + "' in " + path + " must have 1 to " + MAX_NAME
                    + " characters before any '@'");
        }
        char first = base.charAt(0);
        if (!(first >= 'a' && first <= 'z' || first >= 'A' && first <= 'Z')) {
            throw new FdtException("node name '" + n + "' in " + path + " must start with a letter");
        }
        checkChars(base, NODE_CHARS, "node name", n);
        if (at >= 0) {
            String unit = n.substring(at + 1);
            if (unit.isEmpty()) {
                throw new FdtException("node name '" + n + "' in " + path + " has an empty unit address");
            }
            checkChars(unit, NODE_CHARS, "unit address of node", n);
        }
    }

    private void checkPropertyName(String n) {
        if (n.isEmpty() || n.length() > MAX_NAME) {
            throw new FdtException("property name '" + n + "' in " + path + " must have 1 to " + MAX_NAME + " characters");
        }
        checkChars(n, PROPERTY_CHARS, "property name", n);
    }

    private void checkChars(String s, String allowed, String what, String whole) {
        for (int i = 0; i < s.length(); i++) {
            if (allowed.indexOf(s.charAt(i)) < 0) {
                throw new FdtException(String.format("%s '%s' in %s has illegal character 0x%x", what,
                        whole.replaceAll("[^\\x20-\\x7e]", "?"), path, (int) s.charAt(i)));
            }
        }
    }
}
