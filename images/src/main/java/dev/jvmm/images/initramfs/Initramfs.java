package dev.jvmm.images.initramfs;

import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveOutputStream;
import org.apache.commons.compress.archivers.cpio.CpioConstants;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPOutputStream;

/**
 * A Linux initramfs (cpio "newc"), built in memory as a list of entries and written
 * reproducibly: fixed timestamps, sequential inode numbers, parents before children.
 * Large files are streamed from disk when written.
 */
public final class Initramfs {
    private sealed interface Node permits Dir, File, Symlink, CharDevice {
        String path();
    }

    private record Dir(String path, int mode) implements Node {}

    private record File(String path, int mode, byte[] content, Path source) implements Node {}

    private record Symlink(String path, String target) implements Node {}

    private record CharDevice(String path, int mode, int major, int minor) implements Node {}

    private final List<Node> nodes = new ArrayList<>();
    private final Set<String> paths = new LinkedHashSet<>();

    private static String clean(String path) {
        String p = path.startsWith("/") ? path.substring(1) : path;
        if (p.isEmpty() || p.contains("..") || p.endsWith("/")) {
            throw new IllegalArgumentException("bad initramfs path: " + path);
        }
        return p;
    }

    private void add(Node n) {
        if (!paths.add(n.path())) {
            throw new IllegalArgumentException("duplicate initramfs path: " + n.path());
        }
        nodes.add(n);
    }

    private void parents(String path) {
        int slash = path.lastIndexOf('/');
        if (slash > 0) {
            String parent = path.substring(0, slash);
            if (!paths.contains(parent)) {
                parents(parent);
                add(new Dir(parent, 0755));
            }
        }
    }

    public Initramfs dir(String path) {
        String p = clean(path);
        parents(p);
        if (!paths.contains(p)) {
            add(new Dir(p, 0755));
        }
        return this;
    }

    public Initramfs file(String path, byte[] content, int mode) {
        String p = clean(path);
        parents(p);
        add(new File(p, mode, content, null));
        return this;
    }

    public Initramfs file(String path, String content, int mode) {
        return file(path, content.getBytes(StandardCharsets.UTF_8), mode);
    }

    /** A file copied from the host when the archive is written. */
    public Initramfs fileFrom(String path, Path source, int mode) {
        String p = clean(path);
        parents(p);
        add(new File(p, mode, null, source));
        return this;
    }

    /** Copies a host directory tree under {@code path}, keeping executable bits and symlinks. */
    public Initramfs tree(String path, Path sourceDir) throws IOException {
        dir(path);
        try (var walk = Files.walk(sourceDir)) {
            for (Path src : walk.sorted().toList()) {
                if (src.equals(sourceDir)) {
                    continue;
                }
                String rel = path + "/" + sourceDir.relativize(src).toString();
                if (Files.isSymbolicLink(src)) {
                    symlink(rel, Files.readSymbolicLink(src).toString());
                } else if (Files.isDirectory(src)) {
                    dir(rel);
                } else {
                    fileFrom(rel, src, Files.isExecutable(src) ? 0755 : 0644);
                }
            }
        }
        return this;
    }

    public Initramfs symlink(String path, String target) {
        String p = clean(path);
        parents(p);
        add(new Symlink(p, target));
        return this;
    }

    public Initramfs charDevice(String path, int major, int minor) {
        String p = clean(path);
        parents(p);
        add(new CharDevice(p, 0600, major, minor));
        return this;
    }

    public boolean contains(String path) {
        return paths.contains(clean(path));
    }

    /** Writes the archive, gzip-compressed if {@code gzip}. */
    public void writeTo(OutputStream target, boolean gzip) throws IOException {
        OutputStream sink = gzip ? new GZIPOutputStream(new BufferedOutputStream(target, 1 << 16), 1 << 16)
                : new BufferedOutputStream(target, 1 << 16);
        try (CpioArchiveOutputStream cpio = new CpioArchiveOutputStream(sink, CpioConstants.FORMAT_NEW)) {
            long inode = 1;
            for (Node n : nodes) {
                CpioArchiveEntry e = new CpioArchiveEntry(CpioConstants.FORMAT_NEW, n.path());
                e.setInode(inode++);
                e.setTime(0);
                e.setUID(0);
                e.setGID(0);
                e.setNumberOfLinks(n instanceof Dir ? 2 : 1);
                if (n instanceof Dir d) {
                    e.setMode(CpioConstants.C_ISDIR | d.mode());
                    cpio.putArchiveEntry(e);
                } else if (n instanceof Symlink s) {
                    byte[] t = s.target().getBytes(StandardCharsets.UTF_8);
                    e.setMode(CpioConstants.C_ISLNK | 0777);
                    e.setSize(t.length);
                    cpio.putArchiveEntry(e);
                    cpio.write(t);
                } else if (n instanceof CharDevice c) {
                    e.setMode(CpioConstants.C_ISCHR | c.mode());
                    e.setRemoteDeviceMaj(c.major());
                    e.setRemoteDeviceMin(c.minor());
                    cpio.putArchiveEntry(e);
                } else {
                    File f = (File) n;
                    e.setMode(CpioConstants.C_ISREG | f.mode());
                    if (f.content() != null) {
                        e.setSize(f.content().length);
                        cpio.putArchiveEntry(e);
                        cpio.write(f.content());
                    } else {
                        e.setSize(Files.size(f.source()));
                        cpio.putArchiveEntry(e);
                        try (InputStream in = Files.newInputStream(f.source())) {
                            in.transferTo(cpio);
                        }
                    }
                }
                cpio.closeArchiveEntry();
            }
            cpio.finish();
        }
    }

    public byte[] toBytes(boolean gzip) throws IOException {
        var out = new java.io.ByteArrayOutputStream();
        writeTo(out, gzip);
        return out.toByteArray();
    }
}
