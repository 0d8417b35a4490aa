package dev.jvmm.boot.verity;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The dm-verity table the kernel will use, read from a kernel command line's
 * {@code dm-mod.create=} (Documentation/admin-guide/device-mapper/dm-init.rst and verity.rst).
 * The guest checks the root file system against this table, never against the superblock, so
 * jvmm verifies a slot with these values. Every field is checked as text first: a hostile
 * command line becomes one VerityException line, never a NumberFormatException.
 *
 * @param lengthSectors  the target's length in 512-byte sectors
 * @param hashStartBlock the first hash block of the tree (its top level), in 4096-byte blocks
 * @param rootHex        the root hash, 64 hex digits
 * @param saltHex        the salt in hex, empty for none ("-" in the table)
 */
public record VerityTable(long lengthSectors, String dataDevice, String hashDevice, long dataBlocks, long hashStartBlock,
                          String rootHex, String saltHex) {
    /** The largest count jvmm reads from a table: more digits than this are not a real size. */
    static final int MAX_DIGITS = 18;
    private static final Pattern HEX = Pattern.compile("([0-9a-fA-F]{2})*");

    public byte[] rootHash() {
        return HexFormat.of().parseHex(rootHex);
    }

    public byte[] salt() {
        return HexFormat.of().parseHex(saltHex);
    }

    /**
     * The table in the command line's single {@code dm-mod.create=} parameter, with
     * {@code $kern_guid}-style placeholders already replaced by the caller.
     */
    public static VerityTable fromCmdline(String cmdline) throws VerityException {
        List<String> values = new ArrayList<>();
        for (String[] p : kernelParams(cmdline)) {
            if (p[0].equals("dm-mod.create") && p[1] != null) {
                values.add(p[1]);
            }
        }
        if (values.isEmpty()) {
            throw new VerityException("the kernel command line has no dm-mod.create= verity table");
        }
        if (values.size() > 1) {
            throw new VerityException("the kernel command line has " + values.size() + " dm-mod.create= parameters; "
                    + "jvmm checks exactly one");
        }
        return fromDmModCreate(values.get(0));
    }

    /** {@code name,uuid,minor,flags,table}: one device with one verity target. */
    public static VerityTable fromDmModCreate(String value) throws VerityException {
        if (value.indexOf(';') >= 0) {
            throw new VerityException("dm-mod.create= creates several devices; jvmm checks a single verity device");
        }
        String[] f = value.split(",", 5);
        if (f.length != 5) {
            throw new VerityException("dm-mod.create= is not name,uuid,minor,flags,table");
        }
        if (f[4].indexOf(',') >= 0) {
            throw new VerityException("dm-mod.create= has several table lines; jvmm checks a single verity target");
        }
        return parse(f[4]);
    }

    /**
     * One table line: {@code start length verity 1 data hash 4096 4096 blocks hash_start sha256
     * root salt [optional args]}. Only what jvmm's own verifier computes is accepted.
     */
    public static VerityTable parse(String line) throws VerityException {
        String[] w = line.trim().split("\\s+");
        if (w.length < 13 || !w[2].equals("verity")) {
            throw new VerityException("verity table '" + abbreviate(line) + "' is not 'start length verity' and 10 arguments");
        }
        long start = count(w[0], "start sector");
        long length = count(w[1], "length");
        if (start != 0 || length == 0) {
            throw new VerityException("verity table must map sectors from 0 with a length above 0, not " + w[0] + " " + w[1]);
        }
        if (!w[3].equals("1")) {
            throw new VerityException("verity table format " + abbreviate(w[3]) + " is not 1 (the only one jvmm checks)");
        }
        if (!w[6].equals("4096") || !w[7].equals("4096")) {
            throw new VerityException("verity block sizes " + abbreviate(w[6]) + "/" + abbreviate(w[7])
                    + " are not 4096/4096 (the only ones jvmm checks)");
        }
        long blocks = count(w[8], "data block count");
        long hashStart = count(w[9], "hash start block");
        if (blocks == 0) {
            throw new VerityException("verity table covers 0 data blocks");
        }
        if (!w[10].equals("sha256")) {
            throw new VerityException("verity hash algorithm '" + abbreviate(w[10]) + "' is not sha256 (the only one jvmm checks)");
        }
        if (w[11].length() != 2 * VerityTree.DIGEST || !HEX.matcher(w[11]).matches()) {
            throw new VerityException("verity root hash '" + abbreviate(w[11]) + "' is not 64 hex digits");
        }
        String salt = w[12].equals("-") ? "" : w[12];
        if (salt.length() > 2 * VerityTree.MAX_SALT || !HEX.matcher(salt).matches()) {
            throw new VerityException("verity salt '" + abbreviate(w[12]) + "' is not '-' or up to 256 bytes of hex");
        }
        if (length > Long.MAX_VALUE / 8 || length > blocks * 8) {
            // dm-verity's own check: the target may not be longer than the blocks it verifies.
            throw new VerityException("verity target of " + length + " sectors is longer than its " + blocks + " data blocks");
        }
        return new VerityTable(length, w[4], w[5], blocks, hashStart, w[11].toLowerCase(Locale.ROOT),
                salt.toLowerCase(Locale.ROOT));
    }

    /** A decimal count of at most {@link #MAX_DIGITS} digits. */
    static long count(String s, String what) throws VerityException {
        if (s.isEmpty() || s.length() > MAX_DIGITS || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new VerityException("verity table " + what + " '" + abbreviate(s) + "' is not a decimal number of at most "
                    + MAX_DIGITS + " digits");
        }
        return Long.parseLong(s);
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }

    /**
     * The command line split as the kernel's next_arg (lib/cmdline.c, kernel/params.c) splits
     * it: blanks outside double quotes separate parameters, a leading quote and the quotes
     * around a value are dropped, and parsing stops at "--" (what follows is init's).
     * Each element is {name, value}; value is null for a parameter without '='.
     */
    static List<String[]> kernelParams(String cmdline) {
        List<String[]> out = new ArrayList<>();
        int i = 0;
        int n = cmdline.length();
        while (true) {
            while (i < n && Character.isWhitespace(cmdline.charAt(i))) {
                i++;
            }
            if (i >= n) {
                return out;
            }
            boolean quoted = cmdline.charAt(i) == '"';
            if (quoted) {
                i++;
            }
            boolean inQuote = quoted;
            int start = i;
            int equals = -1;
            for (; i < n; i++) {
                char c = cmdline.charAt(i);
                if (Character.isWhitespace(c) && !inQuote) {
                    break;
                }
                if (equals < 0 && c == '=') {
                    equals = i;
                }
                if (c == '"') {
                    inQuote = !inQuote;
                }
            }
            int end = i;
            boolean lastIsQuote = end > start && cmdline.charAt(end - 1) == '"';
            String name;
            String value = null;
            if (equals < 0) {
                name = cmdline.substring(start, quoted && lastIsQuote ? end - 1 : end);
            } else {
                name = cmdline.substring(start, equals);
                int vs = equals + 1;
                int ve = end;
                if (vs < end && cmdline.charAt(vs) == '"') {
                    vs++;
                    if (lastIsQuote) {
                        ve = end - 1;
                    }
                } else if (quoted && lastIsQuote) {
                    ve = end - 1;
                }
                value = cmdline.substring(vs, Math.max(vs, ve));
            }
            if (name.equals("--") && value == null) {
                return out;
            }
            out.add(new String[] {name, value});
        }
    }
}
