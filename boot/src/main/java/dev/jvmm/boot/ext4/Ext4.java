package dev.jvmm.boot.ext4;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A read-only view of an ext2, ext3 or ext4 file system inside a window of a channel (a
 * partition of a disk image), so jvmm as firmware can read the kernel and grub.cfg from a BOOT
 * partition. Paths are absolute; symbolic links are followed, at most {@value #MAX_SYMLINKS}
 * of them per lookup. Instances may be shared between threads.
 */
public final class Ext4 {
    /** Most symbolic links one lookup follows before it reports a loop. */
    public static final int MAX_SYMLINKS = 8;
    /** Longest path or link target accepted (Linux's PATH_MAX). */
    public static final int MAX_PATH = 4096;
    private static final int CACHED_DIRS = 8;
    /** Directories with more entries are not cached, to bound memory. */
    private static final int CACHED_ENTRIES = 65536;
    /** Most directory bytes one lookup may scan: a long path through huge directories is refused, not ground through. */
    private static final long LOOKUP_BUDGET = 64L << 20;

    private final Window w;
    private final Superblock sb;
    private final Groups groups;
    private final Map<Long, Map<String, Long>> dirCache = Collections.synchronizedMap(
            new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<Long, Map<String, Long>> eldest) {
                    return size() > CACHED_DIRS;
                }
            });

    private Ext4(Window w, Superblock sb) {
        this.w = w;
        this.sb = sb;
        this.groups = new Groups(sb, w);
    }

    /** The ext4 (or ext2/ext3) file system at [offset, offset+length) of ch. Never reads outside that window. */
    public static Ext4 open(FileChannel ch, long offset, long length) throws IOException, Ext4Exception {
        Window w = new Window(ch, offset, length);
        Ext4 fs = new Ext4(w, Superblock.read(w));
        Inode root = fs.inode(Inode.ROOT);
        if (!root.isDir()) {
            throw new Ext4Exception("root inode 2 is a " + root.kind() + ", not a directory");
        }
        return fs;
    }

    public String label() {
        return sb.label();
    }

    /** The file system UUID, lower-case with dashes. */
    public String uuid() {
        return sb.uuid();
    }

    /** Whole content of a regular file; symlinks followed; refuses files larger than maxBytes. */
    public byte[] readFile(String path, long maxBytes) throws IOException, Ext4Exception {
        if (maxBytes < 0 || maxBytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("maxBytes " + maxBytes + " is not in 0.." + (Integer.MAX_VALUE - 8));
        }
        Inode ino = resolveExisting(path, true);
        if (!ino.isRegular()) {
            throw new Ext4Exception(path + " is a " + ino.kind() + ", not a regular file");
        }
        return FileReader.read(sb, w, ino, maxBytes, path);
    }

    /** Whether path names something (following symlinks); false when a component is missing or not a directory. */
    public boolean exists(String path) throws IOException, Ext4Exception {
        return resolve(path, true) != null;
    }

    /** Names in a directory, sorted, without "." and "..". */
    public List<String> list(String dirPath) throws IOException, Ext4Exception {
        Inode dir = resolveExisting(dirPath, true);
        if (!dir.isDir()) {
            throw new Ext4Exception(dirPath + " is a " + dir.kind() + ", not a directory");
        }
        List<String> names = new ArrayList<>();
        for (Directory.Entry e : Directory.read(sb, w, dir, dirPath)) {
            if (!e.name().equals(".") && !e.name().equals("..")) {
                names.add(e.displayName());
            }
        }
        Collections.sort(names);
        return names;
    }

    /** The target of a symbolic link (the last component is not followed). */
    public String readLink(String path) throws IOException, Ext4Exception {
        Inode ino = resolveExisting(path, false);
        if (!ino.isSymlink()) {
            throw new Ext4Exception(path + " is a " + ino.kind() + ", not a symbolic link");
        }
        return linkTarget(ino, path);
    }

    private Inode inode(long n) throws IOException, Ext4Exception {
        return Inode.read(n, sb, groups, w);
    }

    private Inode resolveExisting(String path, boolean followLast) throws IOException, Ext4Exception {
        Inode ino = resolve(path, followLast);
        if (ino == null) {
            throw new Ext4Exception("no such file or directory: " + path);
        }
        return ino;
    }

    /**
     * Walks path from the root, a component at a time, splicing in link targets (absolute ones
     * restart at the root); null when a component is missing or a non-directory is walked through.
     */
    private Inode resolve(String path, boolean followLast) throws IOException, Ext4Exception {
        if (path.isEmpty() || path.charAt(0) != '/' || path.length() > MAX_PATH) {
            throw new IllegalArgumentException("not an absolute path of at most " + MAX_PATH + " chars: " + path);
        }
        Deque<String> todo = new ArrayDeque<>(List.of(path.split("/")));
        Inode cur = inode(Inode.ROOT);
        int links = 0;
        long[] budget = {LOOKUP_BUDGET};
        while (!todo.isEmpty()) {
            String name = todo.pollFirst();
            if (name.isEmpty() || name.equals(".")) {
                continue;
            }
            if (!cur.isDir()) {
                return null;
            }
            Long child = lookup(cur, name, path, budget);
            if (child == null) {
                return null;
            }
            Inode next = inode(child);
            if (next.isSymlink() && (followLast || todo.stream().anyMatch(s -> !s.isEmpty() && !s.equals(".")))) {
                if (++links > MAX_SYMLINKS) {
                    throw new Ext4Exception("too many levels of symbolic links (more than " + MAX_SYMLINKS + ") in " + path);
                }
                String target = linkTarget(next, path);
                String[] parts = target.split("/");
                for (int i = parts.length - 1; i >= 0; i--) {
                    todo.addFirst(parts[i]);
                }
                if (target.startsWith("/")) {
                    cur = inode(Inode.ROOT);
                }
                continue;
            }
            cur = next;
        }
        return cur;
    }

    private Long lookup(Inode dir, String name, String path, long[] budget) throws IOException, Ext4Exception {
        Map<String, Long> byName = dirCache.get(dir.number());
        if (byName == null) {
            budget[0] -= dir.size();
            if (budget[0] < 0) {
                throw new Ext4Exception("looking up " + path + " scans more than " + LOOKUP_BUDGET + " bytes of directories");
            }
            List<Directory.Entry> entries = Directory.read(sb, w, dir, "looking up " + path);
            byName = new HashMap<>();
            for (Directory.Entry e : entries) {
                byName.putIfAbsent(e.name(), e.inode());
            }
            if (entries.size() <= CACHED_ENTRIES) {
                dirCache.put(dir.number(), byName);
            }
        }
        return byName.get(Directory.Entry.key(name));
    }

    /** A fast symlink keeps its target in i_block; a slow one in data blocks (or inline data). */
    private String linkTarget(Inode ino, String path) throws IOException, Ext4Exception {
        long size = ino.size();
        if (size == 0 || size > MAX_PATH) {
            throw new Ext4Exception("symbolic link " + path + " has absurd target length " + size);
        }
        boolean mapped = ino.hasFlag(Inode.EXTENTS_FL) || ino.hasFlag(Inode.INLINE_DATA_FL);
        long aclBlocks = ino.fileAcl() != 0 ? sb.blockSize() / 512 : 0;
        byte[] target;
        if (!mapped && size < Inode.I_BLOCK_SIZE && ino.blocks() <= aclBlocks) {
            target = new byte[(int) size];
            System.arraycopy(ino.blockArea(), 0, target, 0, (int) size);
        } else {
            target = FileReader.read(sb, w, ino, MAX_PATH, "symbolic link " + path);
        }
        for (byte c : target) {
            if (c == 0) {
                throw new Ext4Exception("symbolic link " + path + " has a NUL in its target");
            }
        }
        return new String(target, StandardCharsets.UTF_8);
    }
}
