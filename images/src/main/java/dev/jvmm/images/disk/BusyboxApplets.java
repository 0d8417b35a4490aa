package dev.jvmm.images.disk;

import dev.jvmm.images.HostTools;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The applets a static busybox holds, for the links of a read-only root (where `busybox
 * --install` cannot run at boot). A busybox of the host's architecture says with {@code --list};
 * one of another (arm64's on an x86_64 host) cannot run here, so its list is read from the
 * binary: busybox keeps its applet names as one string table, NUL-separated and sorted, that
 * begins with "[", "[[" and ends with an empty name (applet_tables.h).
 */
final class BusyboxApplets {
    /** The names a link may take: what busybox's own table holds. */
    private static final String NAME = "[A-Za-z0-9_.\\[-]+";
    private static final byte[] TABLE_START = "[\0[[\0".getBytes(StandardCharsets.US_ASCII);
    /** Far above busybox's few hundred applets: a table that does not end is not one. */
    static final int MAX_APPLETS = 2000;

    private BusyboxApplets() {}

    /** The applets of {@code busybox}, by running it when it is of this host's architecture. */
    static List<String> of(Path busybox, boolean runnable) throws IOException, InterruptedException {
        if (runnable) {
            List<String> out = new ArrayList<>();
            for (String a : HostTools.run(null, Map.of(), busybox.toString(), "--list").split("\n")) {
                a = a.trim();
                if (!a.isEmpty() && a.matches(NAME)) {
                    out.add(a);
                }
            }
            return out;
        }
        return fromTable(Files.readAllBytes(busybox), busybox.toString());
    }

    /** The applet names of busybox's string table in {@code binary}; one line naming {@code what} when there is none. */
    static List<String> fromTable(byte[] binary, String what) throws IOException {
        int at = indexOf(binary, TABLE_START);
        if (at < 0) {
            throw new IOException(what + ": no busybox applet table (\"[\", \"[[\", ...) in it");
        }
        List<String> names = new ArrayList<>();
        int i = at;
        while (true) {
            int end = i;
            while (end < binary.length && binary[end] != 0) {
                end++;
            }
            if (end >= binary.length || names.size() > MAX_APPLETS) {
                throw new IOException(what + ": busybox applet table does not end");
            }
            if (end == i) {
                break;
            }
            String name = new String(binary, i, end - i, StandardCharsets.ISO_8859_1);
            if (!name.matches(NAME)) {
                throw new IOException(what + ": busybox applet table holds a name that is none: " + name.replaceAll("[^ -~]", "?"));
            }
            names.add(name);
            i = end + 1;
        }
        return names;
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
