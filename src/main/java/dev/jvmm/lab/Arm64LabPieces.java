package dev.jvmm.lab;

import dev.jvmm.images.Cache;
import dev.jvmm.images.CachePrune;
import dev.jvmm.images.Hashing;
import dev.jvmm.images.HostTools;
import dev.jvmm.images.initramfs.Initramfs;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.ZipFile;

/**
 * The arm64 lab's L1, made on an x86_64 host from Debian's arm64 packages, each piece cached
 * under ~/.cache/jvmm/lab by what it is made from:
 * <ul>
 *   <li>{@code linux-image-<abi>-arm64/}: the kernel (vmlinuz) and the modules L1 loads;</li>
 *   <li>{@code jre-aarch64-<key>/}: java.base, java.logging and jdk.unsupported, jlink'd by this
 *       host's JDK from Debian's arm64 jmods (jlink links for another platform when given its
 *       jmods; the key holds both JDK versions);</li>
 *   <li>{@code userland-aarch64-<key>/}: busybox-static and the C and C++ runtime packages,
 *       unpacked; the key holds their versions;</li>
 *   <li>{@code l1-base-aarch64-<key>.cpio}: the initramfs made of them, with only the libraries
 *       the runtime's and jvmm's native code need (read from their ELF headers).</li>
 * </ul>
 */
final class Arm64LabPieces {
    static final String KERNEL_META = "linux-image-arm64";
    static final String JDK_PACKAGE = "openjdk-17-jdk-headless";
    static final String BUSYBOX_PACKAGE = "busybox-static";
    /** Where the runtime's libraries come from: glibc (with the loader), zlib, libstdc++, libgcc. */
    static final List<String> LIBRARY_PACKAGES = List.of("libc6", "zlib1g", "libstdc++6", "libgcc-s1");
    static final String LOADER = "lib/ld-linux-aarch64.so.1";
    static final String MULTIARCH = "aarch64-linux-gnu";
    /** Where the libraries go in L1: a directory the arm64 loader searches without a cache. */
    static final String LIBRARY_DIR = "lib/" + MULTIARCH;
    static final List<HostTools.Requirement> NEEDS = List.of(
            new HostTools.Requirement("/usr/bin/" + LabArch.AARCH64.qemuBinary(), LabArch.AARCH64.qemuPackage()),
            new HostTools.Requirement("/usr/bin/dpkg-deb", "dpkg"),
            new HostTools.Requirement("/usr/bin/apt-get", "apt"));

    /** What the arm64 L1 boots from. */
    record Pieces(Path kernel, Path javaRuntime, Path baseArchive) {}

    private final PrintStream log;
    private final DebianArm64 debian;

    Arm64LabPieces(PrintStream log) {
        this.log = log;
        this.debian = new DebianArm64(log);
    }

    /** Every piece, made or found in the cache. */
    Pieces prepare() throws IOException, InterruptedException {
        HostTools.ensure("the arm64 lab", NEEDS);
        Path kernel = kernel();
        List<String> pkgs = new ArrayList<>(List.of(JDK_PACKAGE, BUSYBOX_PACKAGE));
        pkgs.addAll(LIBRARY_PACKAGES);
        Map<String, String> versions = debian.candidates(pkgs);
        Path jre = javaRuntime(versions.get(JDK_PACKAGE));
        versions.remove(JDK_PACKAGE);
        Path userland = userland(versions);
        return new Pieces(kernel.resolve("vmlinuz"), jre, baseArchive(kernel, jre, userland));
    }

    /** Debian's arm64 kernel and the modules L1 loads ({@link LabArch#AARCH64}); KVM is built in. */
    Path kernel() throws IOException, InterruptedException {
        String pkg = debian.dependency(KERNEL_META, "linux-image-");
        Path dir = Cache.dir("lab").resolve(pkg);
        if (complete(dir)) {
            return dir;
        }
        log.println("[jvmm] lab: fetching the arm64 L1 kernel " + pkg + " (Debian package)");
        Path tmp = Files.createTempDirectory("jvmm-l1-arm64");
        try {
            debian.fetch(pkg, null, tmp);
            Path staging = Cache.dir("lab").resolve(pkg + ".partial");
            HostTools.deleteTree(staging);
            Files.createDirectories(staging.resolve("modules"));
            List<String> modules = LabArch.AARCH64.modules();
            try (var s = Files.walk(tmp)) {
                for (Path p : s.filter(Files::isRegularFile).toList()) {
                    String name = p.getFileName().toString();
                    if (name.startsWith("vmlinuz-")) {
                        Files.copy(p, staging.resolve("vmlinuz"), StandardCopyOption.REPLACE_EXISTING);
                    } else if (name.endsWith(".ko") && modules.contains(name.substring(0, name.length() - 3))) {
                        Files.copy(p, staging.resolve("modules").resolve(name), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
            if (!complete(staging)) {
                throw new IOException(pkg + " lacks vmlinuz or one of the modules " + modules);
            }
            HostTools.deleteTree(dir);
            Files.move(staging, dir);
            return dir;
        } finally {
            HostTools.deleteTree(tmp);
        }
    }

    private static boolean complete(Path kernelDir) {
        return Files.isRegularFile(kernelDir.resolve("vmlinuz")) && LabArch.AARCH64.modules().stream()
                .allMatch(m -> Files.isRegularFile(kernelDir.resolve("modules/" + m + ".ko")));
    }

    /** An arm64 Java runtime: this host's jlink over Debian's arm64 jmods ({@link #JDK_PACKAGE} at {@code version}). */
    Path javaRuntime(String version) throws IOException, InterruptedException {
        Path jlink = Path.of(System.getProperty("java.home"), "bin", "jlink");
        String key = Hashing.key(JDK_PACKAGE, version, System.getProperty("java.vm.version"), Lab.JAVA_MODULES, "v1");
        Path dir = Cache.dir("lab").resolve("jre-aarch64-" + key);
        if (Files.isRegularFile(dir.resolve("bin/java")) && Files.isRegularFile(dir.resolve("lib/modules"))) {
            return dir;
        }
        if (!Files.isExecutable(jlink)) {
            throw new IOException("the lab needs a JDK with jlink; " + jlink + " is missing (install openjdk-17-jdk-headless)");
        }
        log.println("[jvmm] lab: making an arm64 Java runtime for L1 (jlink over Debian's arm64 " + JDK_PACKAGE + " "
                + version + ")");
        Path tmp = Files.createTempDirectory("jvmm-jdk-arm64");
        try {
            debian.fetch(JDK_PACKAGE, version, tmp);
            Path jmods;
            try (var s = Files.walk(tmp)) {
                jmods = s.filter(p -> p.getFileName().toString().equals("java.base.jmod")).findFirst()
                        .map(Path::getParent)
                        .orElseThrow(() -> new IOException(JDK_PACKAGE + ":arm64 " + version + " has no jmods"));
            }
            Path staging = Cache.dir("lab").resolve("jre-aarch64-" + key + ".partial");
            HostTools.deleteTree(staging);
            // --strip-debug would also strip native debug symbols with the host's objcopy, which
            // cannot read arm64 objects; the class files' debug attributes are what it saves most.
            try {
                HostTools.run(Path.of("/tmp"), Map.of(), jlink.toString(), "--module-path", jmods.toString(),
                        "--add-modules", Lab.JAVA_MODULES, "--strip-java-debug-attributes", "--no-man-pages",
                        "--no-header-files", "--output", staging.toString());
            } catch (IOException e) {
                throw new IOException("jlink (" + System.getProperty("java.version") + ") could not link Debian's arm64 "
                        + JDK_PACKAGE + " " + version + " (jlink needs the same Java feature release): " + e.getMessage());
            }
            HostTools.deleteTree(dir);
            Files.move(staging, dir);
            return dir;
        } finally {
            HostTools.deleteTree(tmp);
        }
    }

    /**
     * Debian's static busybox for arm64, from the same unpacked userland as L1's: what an aarch64
     * guest's busybox initramfs carries (the host's /bin/busybox is x86_64).
     */
    Path guestBusybox() throws IOException, InterruptedException {
        List<String> pkgs = new ArrayList<>(List.of(BUSYBOX_PACKAGE));
        pkgs.addAll(LIBRARY_PACKAGES);
        return userland(debian.candidates(pkgs)).resolve("bin/busybox");
    }

    /** busybox-static and the library packages for arm64 ({@code versions}: package to version), unpacked side by side. */
    Path userland(Map<String, String> versions) throws IOException, InterruptedException {
        Path dir = Cache.dir("lab").resolve("userland-aarch64-" + Hashing.key(versions, "v1"));
        if (Files.isRegularFile(dir.resolve("bin/busybox")) && Files.exists(dir.resolve(LOADER))) {
            return dir;
        }
        log.println("[jvmm] lab: fetching arm64 busybox and libraries (" + String.join(", ", versions.keySet()) + ")");
        Path staging = Cache.dir("lab").resolve(dir.getFileName() + ".partial");
        HostTools.deleteTree(staging);
        for (Map.Entry<String, String> p : versions.entrySet()) {
            debian.fetch(p.getKey(), p.getValue(), staging);
        }
        if (!Files.isRegularFile(staging.resolve("bin/busybox"))) {
            throw new IOException(BUSYBOX_PACKAGE + ":arm64 has no bin/busybox");
        }
        if (!Files.exists(staging.resolve(LOADER))) {
            throw new IOException("libc6:arm64 has no " + LOADER);
        }
        HostTools.deleteTree(dir);
        Files.move(staging, dir);
        return dir;
    }

    /** Every ELF file the inner JVM may load: the runtime's launcher and libraries, jvmm's and Netty's arm64 libraries. */
    static Map<String, byte[]> nativeBinaries(Path jre, Path jar) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (var s = Files.walk(jre)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                String rel = jre.relativize(p).toString();
                if (rel.equals("bin/java") || rel.endsWith(".so")) {
                    out.put("jre/" + rel, Files.readAllBytes(p));
                }
            }
        }
        if (jar != null) {
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                for (var e : Collections.list(zip.entries())) {
                    String n = e.getName();
                    boolean own = n.equals(Lab.nativeLibraryEntry(LabArch.AARCH64));
                    boolean netty = n.startsWith("META-INF/native/") && n.contains("aarch_64");
                    if ((own || netty) && n.endsWith(".so")) {
                        try (InputStream in = zip.getInputStream(e)) {
                            out.put(n, in.readAllBytes());
                        }
                    }
                }
            }
        }
        return out;
    }

    /**
     * The libraries (paths relative to {@code userland}) that {@code binaries} need, transitively,
     * found in the userland's multiarch directories; the runtime's own libraries satisfy
     * themselves. A need nothing satisfies is an error naming it and who needs it.
     */
    static List<Path> libraryClosure(Map<String, byte[]> binaries, Path userland) throws IOException {
        List<Path> dirs = List.of(userland.resolve(LIBRARY_DIR), userland.resolve("usr/" + LIBRARY_DIR));
        TreeSet<String> own = new TreeSet<>();
        binaries.keySet().forEach(k -> own.add(k.substring(k.lastIndexOf('/') + 1)));
        TreeSet<String> found = new TreeSet<>();
        found.add(Path.of(LOADER).getFileName().toString()); // packed at LOADER; loaded first, as the interpreter
        List<Path> out = new ArrayList<>();
        Deque<Map.Entry<String, ElfFile>> work = new ArrayDeque<>();
        for (Map.Entry<String, byte[]> b : binaries.entrySet()) {
            ElfFile elf = ElfFile.parse(b.getValue(), b.getKey());
            if (elf.machine() != ElfFile.EM_AARCH64) {
                throw new IOException(b.getKey() + " is not an arm64 ELF file (machine " + elf.machine() + ")");
            }
            work.add(Map.entry(b.getKey(), elf));
        }
        while (!work.isEmpty()) {
            Map.Entry<String, ElfFile> next = work.poll();
            for (String soname : next.getValue().needed()) {
                if (own.contains(soname) || !found.add(soname)) {
                    continue;
                }
                Path lib = dirs.stream().map(d -> d.resolve(soname)).filter(Files::exists).findFirst()
                        .orElseThrow(() -> new IOException("no arm64 " + soname + " (needed by " + next.getKey()
                                + ") in " + LIBRARY_PACKAGES));
                out.add(userland.relativize(lib));
                work.add(Map.entry(soname, ElfFile.read(lib.toRealPath())));
            }
        }
        return out;
    }

    /** arm64 L1 base archives in the cache (the x86 ones: {@link Lab#BASE_ARCHIVES}). */
    static final String BASE_ARCHIVES = "l1-base-aarch64-*.cpio";

    /** The cached part of the arm64 L1's initramfs. */
    Path baseArchive(Path kernel, Path jre, Path userland) throws IOException {
        Path jar;
        try {
            jar = Lab.ownJar();
        } catch (IOException runningFromClasses) {
            jar = null;
        }
        List<Path> libs = libraryClosure(nativeBinaries(jre, jar), userland);
        String init = L1Init.script(LabArch.AARCH64);
        String key = Hashing.key(kernel.getFileName(), jre.getFileName(), userland.getFileName(), libs, init, "v1");
        Path out = Cache.dir("lab").resolve("l1-base-aarch64-" + key + ".cpio");
        if (Files.isRegularFile(out)) {
            return out;
        }
        log.println("[jvmm] lab: packing the arm64 L1 initramfs");
        Initramfs fs = new Initramfs();
        for (String d : List.of("bin", "proc", "sys", "dev", "tmp", "root", "jvmm", "lab/files", LIBRARY_DIR)) {
            fs.dir(d);
        }
        fs.charDevice("dev/console", 5, 1);
        fs.fileFrom("bin/busybox", userland.resolve("bin/busybox"), 0755);
        fs.file("init", init, 0755);
        try (var s = Files.list(kernel.resolve("modules"))) {
            for (Path m : s.sorted().toList()) {
                fs.fileFrom("lab/modules/" + m.getFileName(), m, 0644);
            }
        }
        fs.tree("jre", jre);
        // The loader at the path every arm64 executable names, the libraries where it looks first.
        fs.fileFrom(LOADER, userland.resolve(LOADER).toRealPath(), 0755);
        for (Path lib : libs) {
            fs.fileFrom(LIBRARY_DIR + "/" + lib.getFileName(), userland.resolve(lib).toRealPath(), 0755);
        }
        Path tmp = Files.createTempFile(out.getParent(), "l1-base", ".tmp");
        try (OutputStream o = Files.newOutputStream(tmp)) {
            fs.writeTo(o, false); // uncompressed: unpacking gzip under TCG costs seconds
        }
        Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        CachePrune.keepNewest(out.getParent(), BASE_ARCHIVES, Lab.BASE_ARCHIVES_KEPT);
        return out;
    }

    /** What is cached, for jvmm doctor: each piece's directory or archive, newest first, by kind. */
    static Map<String, List<Path>> cached() throws IOException {
        Map<String, List<Path>> out = new TreeMap<>();
        Path lab = Cache.root().resolve("lab");
        if (!Files.isDirectory(lab)) {
            return out;
        }
        try (var s = Files.list(lab)) {
            for (Path p : s.sorted().toList()) {
                String n = p.getFileName().toString();
                String kind = n.startsWith("linux-image-") && n.endsWith("-arm64") ? "kernel"
                        : n.startsWith("jre-aarch64-") && !n.endsWith(".partial") ? "java runtime"
                        : n.startsWith("userland-aarch64-") && !n.endsWith(".partial") ? "busybox and libraries"
                        : n.startsWith("l1-base-aarch64-") ? "initramfs" : null;
                if (kind != null) {
                    out.computeIfAbsent(kind, k -> new ArrayList<>()).add(p);
                }
            }
        }
        return out;
    }
}
