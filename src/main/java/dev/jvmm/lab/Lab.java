package dev.jvmm.lab;

import dev.jvmm.boot.KernelFiles;
import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.boot.x86.KernelImage;
import dev.jvmm.images.Cache;
import dev.jvmm.images.CachePrune;
import dev.jvmm.images.Hashing;
import dev.jvmm.images.HostTools;
import dev.jvmm.images.firmware.Firmware;
import dev.jvmm.images.firmware.FirmwareException;
import dev.jvmm.images.initramfs.Initramfs;
import dev.jvmm.machine.ConsoleInput;
import dev.jvmm.machine.DeviceSpecs;
import dev.jvmm.machine.ExitCodes;
import dev.jvmm.machine.ImageSpec;
import dev.jvmm.machine.JvmmCommand;
import dev.jvmm.machine.MachineConfig;
import dev.jvmm.machine.MachineConfigFile;
import dev.jvmm.machine.UnpackedKernels;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.zip.ZipFile;

/**
 * The nested lab: where the host's KVM cannot run a Linux guest, jvmm runs itself inside
 * QEMU TCG emulating a CPU with virtualization extensions. The L1 machine is Debian's cloud
 * kernel with its KVM modules, a jlink'd Java runtime and jvmm's jar, all in one initramfs;
 * the console passes through both levels and the inner jvmm's exit status comes back out.
 */
public final class Lab {
    public static final String L1_META_PACKAGE = "linux-image-cloud-amd64";
    public static final String JAVA_MODULES = "java.base,java.logging,jdk.unsupported";
    /**
     * L1 kernel modules, in load order: KVM; virtio-blk on PCI for the guest's drives and for the
     * disk that carries the inner JVM's class-data archive back out; TUN for virtio-net's TAPs.
     */
    static final List<String> L1_MODULES = LabArch.X86_64.modules();
    /** Where L1's initramfs holds the unpacked kernels of the bzImages a run attaches. */
    static final String UNPACKED_KERNELS = "jvmm/kernel-unpacked";
    /**
     * Options for the JVM inside L1, where everything runs about 20x slower and L1 has one CPU
     * that the guest needs: C1 only, compiling only code that is run 20x more often than the
     * default thresholds ask (a compiler thread compiling start-up code took the CPU from the
     * booting guest: 4.7–5.0 s to ready against 3.6–3.7 s), serial GC.
     */
    static final List<String> INNER_JVM_OPTIONS = List.of("-XX:TieredStopAtLevel=1", "-XX:CompileThresholdScaling=20",
            "-XX:+UseSerialGC",
            // No stubs for intrinsics jvmm does not use in L1 (ciphers, digests, BigInteger, Base64):
            // the JVM generates them at every start, 55 ms under TCG, 12 ms without these
            // (-Xlog:startuptime, "StubRoutines generation 2"). CRC32/CRC32C stay.
            "-XX:+UnlockDiagnosticVMOptions", "-XX:-UseAESIntrinsics", "-XX:-UseAESCTRIntrinsics", "-XX:-UseSHA",
            "-XX:-UseGHASHIntrinsics", "-XX:-UseBASE64Intrinsics", "-XX:-UseMultiplyToLenIntrinsic",
            "-XX:-UseSquareToLenIntrinsic", "-XX:-UseMulAddIntrinsic", "-XX:-UseMontgomeryMultiplyIntrinsic",
            "-XX:-UseMontgomerySquareIntrinsic", "-XX:-UseAdler32Intrinsics", "-XX:-UseMD5Intrinsics",
            "-XX:-UsePerfData", "-Xshare:auto", "-Xss512k", "-Djava.io.tmpdir=/tmp",
            // The class-data archive where it was dumped, not moved: this JDK's default (1) maps it
            // elsewhere for ASLR and rewrites every pointer in it at each start, a copy-on-write of
            // the whole archive (on the host: "Genesis" 43 -> 7 ms, 1,760 fewer page faults; in L1
            // the first KVM_RUN 140-165 ms sooner in two of three paired benches). L1 is a throwaway
            // emulated machine; the host's jvmm keeps the default.
            "-XX:ArchiveRelocationMode=0",
            // jvmm's native library travels in the initramfs, ready: no copy out of the jar in each L1.
            "-Djvmm.native.lib=/jvmm/native/libjvmmsys.so",
            // Unpacked kernels travel in it too (the host unpacks each bzImage's kernel once). Inside
            // L1 a miss is left to the guest's decompressor: jvmm's own unpacking, under TCG with a
            // cold JIT, would be slower than the guest's.
            "-D" + UnpackedKernels.POLICY_PROPERTY + "=cached",
            "-D" + UnpackedKernels.DIR_PROPERTY + "=/" + UNPACKED_KERNELS);
    static final List<HostTools.Requirement> NEEDS = List.of(
            new HostTools.Requirement("/usr/bin/qemu-system-x86_64", "qemu-system-x86"),
            new HostTools.Requirement("/bin/busybox", "busybox-static"),
            new HostTools.Requirement("/usr/bin/dpkg-deb", "dpkg"));

    /**
     * What one lab run needs: the inner jvmm's arguments (or, for a boot, its machine file) and
     * the host files it reads.
     */
    public record Request(List<String> innerArgs, String machineFile, Map<String, Path> files, int guestMemoryMib,
                          int cpus, int timeoutSeconds, boolean escapeKey, List<L1Disk> disks, Path metricsOut,
                          String hostScript, Consumer<String> data, List<Path> extraArchives) {
        public Request(List<String> innerArgs, Map<String, Path> files, int guestMemoryMib, int cpus, int timeoutSeconds,
                       boolean escapeKey) {
            this(innerArgs, null, files, guestMemoryMib, cpus, timeoutSeconds, escapeKey, List.of(), null, null, null);
        }

        public Request(List<String> innerArgs, String machineFile, Map<String, Path> files, int guestMemoryMib,
                       int cpus, int timeoutSeconds, boolean escapeKey, List<L1Disk> disks, Path metricsOut,
                       String hostScript, Consumer<String> data) {
            this(innerArgs, machineFile, files, guestMemoryMib, cpus, timeoutSeconds, escapeKey, disks, metricsOut,
                    hostScript, data, List.of());
        }

        /** The same request, with {@code data} taking each {@code JVMM-LAB-DATA=} line the inner jvmm prints. */
        public Request withData(Consumer<String> data) {
            return new Request(innerArgs, machineFile, files, guestMemoryMib, cpus, timeoutSeconds, escapeKey, disks,
                    metricsOut, hostScript, data, extraArchives);
        }

        /**
         * The same request with {@code archives} (uncompressed or gzip'd cpio) appended to L1's
         * initramfs after the per-run part: later entries win, and L1's memory grows with them.
         */
        public Request withExtraArchives(List<Path> archives) {
            return new Request(innerArgs, machineFile, files, guestMemoryMib, cpus, timeoutSeconds, escapeKey, disks,
                    metricsOut, hostScript, data, List.copyOf(archives));
        }
    }

    /**
     * A host file handed to L1 as a virtio-blk disk; L1's init links it as /dev/SERIAL, which is
     * what the inner jvmm's --drive names.
     */
    public record L1Disk(Path file, boolean readOnly, String serial) {}

    /** Where the jvmm inside L1 writes --metrics; the init script prints it back out as a marker. */
    static final String INNER_METRICS = "/tmp/metrics.json";

    public int boot(MachineConfig c, InputStream stdin, OutputStream stdout)
            throws IOException, InterruptedException {
        return boot(c, null, stdin, stdout);
    }

    /**
     * Boots {@code c} inside the lab: kernel and initrd travel into L1 in its initramfs, drives as
     * L1 virtio disks, the rest as a machine file. {@code hostScript}, if any, runs on L1 (the
     * guest's host) beside the inner jvmm: the place for a guest's TAP and vsock peers.
     */
    public int boot(MachineConfig c, String hostScript, InputStream stdin, OutputStream stdout)
            throws IOException, InterruptedException {
        Attachments files = new Attachments();
        Path kernel = c.kernel() == null ? null : Path.of(files.attach(c.kernel()));
        Path initrd = c.initrd() == null ? null : Path.of(files.attach(c.initrd()));
        List<L1Disk> disks = new ArrayList<>();
        ImageSpec image = c.image();
        ImageSpec innerImage = null;
        if (image != null) {
            // The image is an L1 disk whose writes reach the host file; the firmware passes run inside L1.
            Path disk = l1Disk(disks, image.disk(), false, "jvmmimage");
            Path update = image.updateFrom() == null ? null : l1Disk(disks, image.updateFrom(), true, "jvmmupdate");
            innerImage = new ImageSpec(disk, image.exec(), update, image.maxBoots(), image.note());
        }
        List<DeviceSpecs.Drive> innerDrives = new ArrayList<>();
        for (DeviceSpecs.Drive d : c.devices().drives()) {
            boolean ro = Boolean.TRUE.equals(d.readOnly());
            innerDrives.add(d.withPath(l1Disk(disks, d.path(), ro, "jvmmd" + disks.size()), ro));
        }
        var devices = new DeviceSpecs.Devices(innerDrives, c.devices().nets(), c.devices().vsock(),
                c.devices().rng(), c.devices().discovery());
        MachineConfig inner = new MachineConfig(kernel, initrd, c.cmdline(), c.memoryMib(),
                c.cpus(), c.timeoutSeconds(), c.timeline(), false, // the outer jvmm owns the escape key
                devices, c.metricsFile() == null ? null : Path.of(INNER_METRICS), innerImage, c.arch(), c.unpackKernel());
        // Each image pass may take the whole --timeout; the lab's own guard allows for all of them.
        int timeout = image == null || c.timeoutSeconds() == 0 ? c.timeoutSeconds() : c.timeoutSeconds() * image.maxBoots();
        Lab lab = arch != null ? this : new Lab(log, LabArch.forMachine(c)); // an arm64 kernel boots in the arm64 lab
        Request req = new Request(List.of(), MachineConfigFile.write(inner), files.map(), c.memoryMib(),
                c.cpus(), timeout, c.escapeKey(), disks, c.metricsFile(), hostScript, null);
        Path imageKernel = image != null && c.unpackKernel() && lab.arch() == LabArch.X86_64
                ? unpackedImageKernel(image.disk()) : null;
        try {
            return lab.run(imageKernel == null ? req : req.withExtraArchives(List.of(imageKernel)), stdin, stdout);
        } finally {
            if (imageKernel != null) {
                Files.deleteIfExists(imageKernel);
            }
        }
    }

    /**
     * A cpio archive holding the unpacked kernel of the slot the image's first firmware pass will
     * boot (read on the host as that pass will read it, writing nothing), for L1's initramfs; null
     * if there is none to give (a compressed image, a kernel jvmm does not unpack, a bad image:
     * the pass inside L1 says what is wrong with it).
     */
    private Path unpackedImageKernel(Path disk) throws IOException {
        Path entry;
        try {
            entry = UnpackedKernels.entryFor(Firmware.inspect(disk).kernel());
        } catch (IOException | FirmwareException | KernelLoadException e) {
            return null;
        }
        if (entry == null) {
            return null;
        }
        Path archive = Files.createTempFile("jvmm-lab-kernel", ".cpio");
        try (OutputStream o = Files.newOutputStream(archive)) {
            new Initramfs().fileFrom(UNPACKED_KERNELS + "/" + entry.getFileName(), entry, 0644).writeTo(o, false);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(archive);
            throw e;
        }
        return archive;
    }

    /** Hands {@code file} to L1 as a virtio disk; returns the path the inner jvmm opens. */
    private static Path l1Disk(List<L1Disk> disks, Path file, boolean readOnly, String serial) {
        disks.add(new L1Disk(file.toAbsolutePath(), readOnly, serial));
        return Path.of("/dev/" + serial);
    }

    private final PrintStream log;
    /** The lab's architecture; null: a boot's is its kernel's, a command's x86_64. */
    private final LabArch arch;

    public Lab(PrintStream log) {
        this(log, null);
    }

    /** A lab of {@code arch}: an arm64 L1 (QEMU virt with EL2) for {@link LabArch#AARCH64}. */
    public Lab(PrintStream log, LabArch arch) {
        this.log = log;
        this.arch = arch;
    }

    /** Debian's static arm64 busybox (fetched once, shared with the arm64 lab's L1): for an aarch64 guest's initramfs. */
    public static Path arm64Busybox(PrintStream log) throws IOException, InterruptedException {
        return new Arm64LabPieces(log).guestBusybox();
    }

    /** The architecture this lab's L1 runs. */
    public LabArch arch() {
        return arch == null ? LabArch.X86_64 : arch;
    }

    // ---------------------------------------------------------------- pieces, each cached

    /** Debian's cloud kernel and its KVM modules, downloaded once. */
    Path l1Kernel() throws IOException, InterruptedException {
        String pkg = resolveL1Package();
        Path dir = Cache.dir("lab").resolve(pkg);
        if (Files.isRegularFile(dir.resolve("vmlinuz")) && L1_MODULES.stream()
                .allMatch(m -> Files.isRegularFile(dir.resolve("modules/" + m + ".ko")))) {
            return dir;
        }
        log.println("[jvmm] lab: fetching the L1 kernel " + pkg + " (Debian package)");
        Path tmp = Files.createTempDirectory("jvmm-l1");
        try {
            HostTools.run(tmp, Map.of(), "apt-get", "download", pkg);
            Path deb;
            try (var s = Files.list(tmp)) {
                deb = s.filter(p -> p.toString().endsWith(".deb")).findFirst()
                        .orElseThrow(() -> new IOException("apt-get download " + pkg + " produced no .deb"));
            }
            HostTools.run(tmp, Map.of(), "dpkg-deb", "-x", deb.toString(), tmp.resolve("x").toString());
            Path staging = Files.createDirectories(Cache.dir("lab").resolve(pkg + ".partial"));
            Files.createDirectories(staging.resolve("modules"));
            try (var s = Files.walk(tmp.resolve("x"))) {
                for (Path p : s.toList()) {
                    String name = p.getFileName().toString();
                    if (name.startsWith("vmlinuz-")) {
                        Files.copy(p, staging.resolve("vmlinuz"), StandardCopyOption.REPLACE_EXISTING);
                    } else if (name.endsWith(".ko") && L1_MODULES.contains(name.substring(0, name.length() - 3))) {
                        Files.copy(p, staging.resolve("modules").resolve(name), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
            if (!Files.exists(staging.resolve("vmlinuz")) || !Files.exists(staging.resolve("modules/kvm.ko"))) {
                throw new IOException(pkg + " has no vmlinuz or kvm.ko");
            }
            HostTools.deleteTree(dir);
            Files.move(staging, dir);
            return dir;
        } finally {
            HostTools.deleteTree(tmp);
        }
    }

    private String resolveL1Package() throws IOException, InterruptedException {
        String deps = AptAnswers.output("apt-cache", "depends", L1_META_PACKAGE);
        if ((deps == null || !deps.contains("Depends:")) && HostTools.isRoot()) {
            HostTools.run(Path.of("/tmp"), Map.of(), "apt-get", "update", "-q");
            deps = AptAnswers.output("apt-cache", "depends", L1_META_PACKAGE);
        }
        if (deps != null) {
            for (String line : deps.split("\n")) {
                line = line.trim();
                if (line.startsWith("Depends: linux-image-")) {
                    return line.substring("Depends: ".length()).trim();
                }
            }
        }
        throw new IOException("cannot find Debian's " + L1_META_PACKAGE + " (run: sudo apt-get update)");
    }

    /** A small Java runtime for L1, made with this JDK's jlink. */
    Path javaRuntime() throws IOException, InterruptedException {
        Path jlink = Path.of(System.getProperty("java.home"), "bin", "jlink");
        String key = Hashing.key(System.getProperty("java.vm.version"), System.getProperty("java.home"), JAVA_MODULES, "v1");
        Path dir = Cache.dir("lab").resolve("jre-" + key);
        if (Files.isExecutable(dir.resolve("bin/java"))) {
            return dir;
        }
        if (!Files.isExecutable(jlink)) {
            throw new IOException("the lab needs a JDK with jlink; " + jlink + " is missing (install openjdk-17-jdk-headless)");
        }
        log.println("[jvmm] lab: making a Java runtime for L1 with jlink");
        Path staging = Cache.dir("lab").resolve("jre-" + key + ".partial");
        HostTools.deleteTree(staging);
        Files.createDirectories(staging.getParent());
        HostTools.run(Path.of("/tmp"), Map.of(), jlink.toString(), "--add-modules", JAVA_MODULES, "--strip-debug", "--no-man-pages",
                "--no-header-files", "--generate-cds-archive", "--output", staging.toString());
        HostTools.deleteTree(dir);
        Files.move(staging, dir);
        return dir;
    }

    /** Shared libraries the runtime's binaries need, as ldd reports them, with the dynamic loader. */
    static List<Path> sharedLibraries(Path jre) throws IOException {
        TreeSet<String> libs = new TreeSet<>();
        List<Path> binaries = new ArrayList<>();
        binaries.add(jre.resolve("bin/java"));
        try (var s = Files.walk(jre.resolve("lib"))) {
            s.filter(p -> p.toString().endsWith(".so")).forEach(binaries::add);
        }
        // Native libraries inside jvmm's jar (Netty's epoll) need theirs too (libdl, for one).
        Path unpacked = Files.createTempDirectory("jvmm-native");
        try {
            Path jar = ownJar();
            try (var zip = new ZipFile(jar.toFile())) {
                for (var e : Collections.list(zip.entries())) {
                    if (e.getName().startsWith("META-INF/native/") && e.getName().endsWith(".so")) {
                        Path out = unpacked.resolve(Path.of(e.getName()).getFileName());
                        try (InputStream in = zip.getInputStream(e)) {
                            Files.copy(in, out);
                        }
                        binaries.add(out);
                    }
                }
            }
        } catch (IOException noJar) {
            // running from classes: no bundled native libraries
        }
        for (Path b : binaries) {
            String out = HostTools.output("ldd", b.toString());
            if (out == null) {
                continue;
            }
            for (String line : out.split("\n")) {
                line = line.trim();
                int arrow = line.indexOf("=> /");
                String path = arrow >= 0 ? line.substring(arrow + 3) : line.startsWith("/") ? line : null;
                if (path != null) {
                    path = path.split(" ")[0];
                    if (!path.startsWith(jre.toString())) {
                        libs.add(path);
                    }
                }
            }
        }
        HostTools.deleteTree(unpacked);
        // jvmm's own native library needs only libc and the loader, both already here.
        return libs.stream().map(Path::of).toList();
    }

    /**
     * The libraries (absolute host paths) L1's base archive already holds, so that an extra
     * archive for programs of its own (QEMU, say) can leave them out.
     */
    public Set<String> baseLibraries() throws IOException, InterruptedException {
        Set<String> out = new TreeSet<>();
        sharedLibraries(javaRuntime()).forEach(p -> out.add(p.toString()));
        return out;
    }

    /** x86 L1 base archives in the cache (a 16-digit key; the arm64 ones are l1-base-aarch64-*). */
    static final String BASE_ARCHIVES = "l1-base-????????????????.cpio";
    /** Base archives kept per architecture: the one in use and the one before it. */
    static final int BASE_ARCHIVES_KEPT = 2;

    /** The cached part of L1's initramfs: busybox, KVM modules, Java runtime and its libraries. */
    Path baseArchive(Path l1, Path jre) throws IOException {
        List<Path> libs = sharedLibraries(jre);
        String init = L1Init.script(LabArch.X86_64);
        StringBuilder libKey = new StringBuilder();
        for (Path l : libs) {
            libKey.append(l).append(':').append(Files.size(l)).append(';');
        }
        String key = Hashing.key(l1.getFileName(), jre.getFileName(), Files.size(Path.of("/bin/busybox")), libKey, init, "v1");
        Path out = Cache.dir("lab").resolve("l1-base-" + key + ".cpio");
        if (Files.isRegularFile(out)) {
            return out;
        }
        log.println("[jvmm] lab: packing the L1 initramfs");
        Initramfs fs = new Initramfs();
        for (String d : List.of("bin", "proc", "sys", "dev", "tmp", "root", "jvmm", "lab/files")) {
            fs.dir(d);
        }
        fs.charDevice("dev/console", 5, 1);
        fs.fileFrom("bin/busybox", Path.of("/bin/busybox"), 0755);
        fs.file("init", init, 0755);
        try (var s = Files.list(l1.resolve("modules"))) {
            for (Path m : s.sorted().toList()) {
                fs.fileFrom("lab/modules/" + m.getFileName(), m, 0644);
            }
        }
        fs.tree("jre", jre);
        for (Path lib : libs) {
            Path real = lib.toRealPath();
            String target = lib.toString().substring(1);
            if (!fs.contains(target)) {
                fs.fileFrom(target, real, 0755);
            }
        }
        Path tmp = Files.createTempFile(out.getParent(), "l1-base", ".tmp");
        try (OutputStream o = Files.newOutputStream(tmp)) {
            fs.writeTo(o, false); // uncompressed: unpacking gzip under TCG costs seconds
        }
        Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        CachePrune.keepNewest(out.getParent(), BASE_ARCHIVES, BASE_ARCHIVES_KEPT);
        return out;
    }

    /** The jar this jvmm runs from; the lab runs the same one inside L1. */
    static Path ownJar() throws IOException {
        String explicit = System.getProperty("jvmm.jar");
        Path jar;
        try {
            jar = explicit != null ? Path.of(explicit)
                    : Path.of(Lab.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IOException(e);
        }
        if (!Files.isRegularFile(jar) || !jar.toString().endsWith(".jar")) {
            throw new IOException("the lab needs jvmm's packaged jar (run ./jvmm, or mvn package); found " + jar);
        }
        return jar;
    }

    /** jvmm's own jar, or "" when running from classes (tests). */
    public static String ownJarOrEmpty() {
        try {
            return ownJar().toString();
        } catch (IOException e) {
            return "";
        }
    }

    static String quoteArg(String a) {
        return "\"" + a.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    // ---------------------------------------------------------------- running

    /** Prepares every piece (with progress) and boots the lab; returns jvmm's exit status. */
    public int run(Request req, InputStream stdin, OutputStream stdout) throws IOException, InterruptedException {
        LabArch la = arch();
        Path jre;
        Path base;
        Path l1Kernel;
        if (la == LabArch.AARCH64) {
            Arm64LabPieces.Pieces p = new Arm64LabPieces(log).prepare();
            jre = p.javaRuntime();
            base = p.baseArchive();
            l1Kernel = p.kernel();
        } else {
            HostTools.ensure("the nested lab", NEEDS);
            Path l1 = l1Kernel();
            jre = javaRuntime();
            base = baseArchive(l1, jre);
            l1Kernel = l1.resolve("vmlinuz");
        }
        Path jar = ownJar();

        Initramfs perRun = new Initramfs();
        perRun.fileFrom("jvmm/jvmm.jar", jar, 0644);
        perRun.file("jvmm/native/libjvmmsys.so", nativeLibrary(jar, la), 0755);
        // AppCDS: the inner JVM starts about 20x slower than on the host; a class-data archive of
        // jvmm's own classes, trained on the first lab run of this jar, saves seconds each run.
        Path archive = Cache.dir("lab").resolve("app-" + Hashing.key(Files.readAllBytes(jar), jre.getFileName()) + ".jsa");
        boolean training = !Files.isRegularFile(archive);
        List<String> jvmOptions = new ArrayList<>(INNER_JVM_OPTIONS);
        String diagnosis = System.getenv("JVMM_LAB_JVM_OPTIONS"); // diagnosis: e.g. -Xlog:class+load:stdout:uptime
        if (diagnosis != null && !diagnosis.isBlank()) {
            jvmOptions.addAll(List.of(diagnosis.trim().split("\\s+")));
        }
        String childArchive;
        if (!training) {
            jvmOptions.add("-XX:SharedArchiveFile=/jvmm/app.jsa");
            perRun.fileFrom("jvmm/app.jsa", archive, 0644);
            childArchive = "export JVMM_CHILD_ARCHIVE=/jvmm/app.jsa\n";
        } else {
            // This run records the classes it loads; L1's init then dumps a static archive of them
            // and of jvmm's own classes, which goes out on the out disk for the runs after it.
            jvmOptions.add("-XX:DumpLoadedClassList=/tmp/classes.lst");
            perRun.file("jvmm/archived-classes.lst",
                    String.join("\n", JvmmCommand.ClassDataArchive.classNames(jar)) + "\n", 0644);
            // A command that starts boots of its own (jvmm bench boot) makes it from its first boot.
            childArchive = "export JVMM_CHILD_TRAIN=/tmp/app.jsa\n";
        }
        jvmOptions.add("-Xlog:cds=off,cds+dynamic=off");
        perRun.file("jvmm/child-jvm-options", String.join(" ", INNER_JVM_OPTIONS) + " -Xlog:cds=off,cds+dynamic=off\n",
                0644);
        if (!childArchive.isEmpty()) {
            perRun.file("jvmm/child-archive", childArchive, 0644);
        }
        perRun.file("jvmm/jvm-options", String.join(" ", jvmOptions) + "\n", 0644);
        StringBuilder args = new StringBuilder();
        for (String a : req.innerArgs()) {
            args.append(quoteArg(a)).append('\n');
        }
        perRun.file("jvmm/args", args.toString(), 0644);
        if (req.machineFile() != null) {
            perRun.file("jvmm/machine.properties", req.machineFile(), 0644);
        }
        if (req.hostScript() != null) {
            perRun.file("jvmm/host-script", req.hostScript(), 0755);
            perRun.file("jvmm/host-jvm-options", String.join(" ", INNER_JVM_OPTIONS) + " -Xshare:off -Xmx256m\n", 0644);
        }
        long attached = 0;
        for (Map.Entry<String, Path> f : req.files().entrySet()) {
            perRun.fileFrom("lab/files/" + f.getKey(), f.getValue(), 0644);
            attached += Files.size(f.getValue());
            if (la == LabArch.X86_64) {
                Path unpacked = unpackedKernel(f.getValue());
                if (unpacked != null) {
                    perRun.fileFrom(UNPACKED_KERNELS + "/" + unpacked.getFileName(), unpacked, 0644);
                    attached += Files.size(unpacked);
                }
            }
        }
        Path initrd = Files.createTempFile("jvmm-lab", ".cpio");
        Path outDisk = training ? Files.createTempFile("jvmm-lab-out", ".img") : null;
        try {
            try (OutputStream o = Files.newOutputStream(initrd)) {
                Files.copy(base, o);
                perRun.writeTo(o, false);
            }
            for (Path extra : req.extraArchives()) {
                // The kernel unpacks concatenated archives in turn. (writeTo closed the stream above.)
                try (OutputStream o = Files.newOutputStream(initrd, StandardOpenOption.APPEND)) {
                    Files.copy(extra, o);
                }
            }
            long initrdMib = Files.size(initrd) >> 20;
            // A host script's programs (JVMs for vsock-check, say) need room of their own.
            int l1Mem = (int) Math.max(1024, req.guestMemoryMib() + 2 * initrdMib + 640 + (attached >> 20))
                    + (req.hostScript() != null ? 1024 : 0);
            // One L1 CPU per guest vCPU. (A second L1 CPU for a host script's programs made nested
            // SVM under TCG fall over: a triple-faulting guest, a silent L1.)
            int l1Cpus = Math.max(1, Math.min(req.cpus(), Runtime.getRuntime().availableProcessors()));
            List<String> qemu = new ArrayList<>(la.qemuMachine());
            qemu.addAll(List.of("-smp", Integer.toString(l1Cpus), "-m", Integer.toString(l1Mem), "-nodefaults", "-no-user-config",
                    "-display", "none", "-no-reboot", "-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con",
                    "-kernel", l1Kernel.toString(), "-initrd", initrd.toString(),
                    "-append", "console=" + la.console() + " quiet loglevel=0 panic=-1 rdinit=/init"));
            if (outDisk != null) {
                LabOutDisk.clear(outDisk);
                qemu.addAll(List.of("-drive", "file=" + outDisk + ",if=none,id=out,format=raw,cache=unsafe",
                        "-device", "virtio-blk-pci,drive=out,serial=jvmmout"));
            }
            for (int i = 0; i < req.disks().size(); i++) {
                L1Disk d = req.disks().get(i);
                qemu.addAll(List.of("-drive", "file=" + d.file().toString().replace(",", ",,") + ",if=none,id=d" + i
                                + ",format=raw,cache=writeback" + (d.readOnly() ? ",readonly=on" : ""),
                        "-device", "virtio-blk-pci,drive=d" + i + ",serial=" + d.serial()));
            }
            int rc = boot(qemu, req, stdin, stdout);
            if (rc == FROZE_BEFORE_INIT) {
                // Nothing of the run happened (the inner jvmm never started): one more L1 is safe.
                log.println("\r\njvmm: lab: starting L1 once more\r");
                rc = boot(qemu, req, stdin, stdout);
                if (rc == FROZE_BEFORE_INIT) {
                    rc = ExitCodes.TIMEOUT;
                }
            }
            if (outDisk != null) {
                LabOutDisk.keepArchive(outDisk, archive, log);
            }
            return rc;
        } finally {
            Files.deleteIfExists(initrd);
            if (outDisk != null) {
                Files.deleteIfExists(outDisk);
            }
        }
    }

    /**
     * The unpacked kernel of {@code file} if it is a bzImage jvmm unpacks (made in the host's cache
     * now if need be), else null. A bzImage jvmm cannot unpack is not refused here: the guest's
     * decompressor gets its turn, and its errors, in L1.
     */
    private Path unpackedKernel(Path file) throws IOException {
        long size = Files.size(file);
        if (size < 0x264 || size > KernelFiles.MAX_KERNEL_BYTES) {
            return null;
        }
        byte[] head = new byte[0x264];
        try (InputStream in = Files.newInputStream(file)) {
            // Only a kernel is read whole (an initrd or a disk image is not): BzImagePayload says the rest.
            if (in.readNBytes(head, 0, head.length) < head.length || !KernelImage.recognises(head)) {
                return null;
            }
        }
        try {
            return UnpackedKernels.entryFor(KernelFiles.readKernel(file));
        } catch (KernelLoadException e) {
            log.println("jvmm: lab: " + file.getFileName() + ": " + e.getMessage() + "; the guest unpacks it");
            return null;
        }
    }

    /** jvmm's native library for L1's architecture, out of jvmm's jar. */
    static byte[] nativeLibrary(Path jar, LabArch arch) throws IOException {
        String entry = nativeLibraryEntry(arch);
        try (var zip = new ZipFile(jar.toFile())) {
            var e = zip.getEntry(entry);
            if (e == null) {
                throw new IOException(jar + " has no " + entry + (arch == LabArch.AARCH64
                        ? " (jvmm builds it where gcc-aarch64-linux-gnu is installed: install it and rebuild)" : ""));
            }
            try (InputStream in = zip.getInputStream(e)) {
                return in.readAllBytes();
            }
        }
    }

    /** Where jvmm's jar holds its native library for {@code arch} (vmm/src/main/c/build.sh). */
    static String nativeLibraryEntry(LabArch arch) {
        return "dev/jvmm/vmm/sys/native/linux-" + arch.label() + "/libjvmmsys.so";
    }

    /** boot()'s answer when L1 froze before its init ran: the caller may start it again. */
    private static final int FROZE_BEFORE_INIT = -124;

    private int boot(List<String> qemuArgv, Request req, InputStream stdin, OutputStream stdout)
            throws IOException, InterruptedException {
        // QEMU's own messages are kept aside and shown only when the lab fails.
        Path qemuLog = Files.createTempFile("jvmm-qemu", ".log");
        Path watchDir = Files.createTempDirectory("jvmm-lab-watch");
        Path heartbeat = watchDir.resolve("heartbeat");
        Path monitorSocket = watchDir.resolve("monitor.sock");
        List<String> argv = new ArrayList<>(qemuArgv);
        argv.addAll(LabWatchdog.qemuArguments(arch().heartbeatArguments(heartbeat), monitorSocket));
        Process qemu = new ProcessBuilder(argv).redirectError(qemuLog.toFile()).start();
        LabWatchdog watchdog = new LabWatchdog(heartbeat, monitorSocket, qemu, log);
        watchdog.start();
        // If jvmm itself is killed, QEMU must not outlive it.
        Thread reaper = new Thread(qemu::destroyForcibly, "lab-reaper");
        Runtime.getRuntime().addShutdownHook(reaper);
        LabMarkers console = new LabMarkers(stdout, req.data());
        boolean[] userQuit = new boolean[1];
        Thread pumpOut = new Thread(() -> {
            byte[] buf = new byte[8192];
            try (InputStream in = qemu.getInputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    for (int i = 0; i < n; i++) {
                        console.write(buf[i]);
                    }
                    console.flush();
                }
            } catch (IOException ignored) {
                // QEMU went away
            }
        }, "lab-console-out");
        pumpOut.start();
        OutputStream toQemu = qemu.getOutputStream();
        ConsoleInput input = new ConsoleInput(stdin, (b, n) -> {
            try {
                toQemu.write(b, 0, n);
                toQemu.flush();
                return true;
            } catch (IOException e) {
                return false;
            }
        }, () -> {
            userQuit[0] = true;
            qemu.destroy();
        }, req.escapeKey());
        input.start();
        try {
            // The inner jvmm enforces --timeout itself; this is only a guard against a stuck lab.
            long limit = req.timeoutSeconds() > 0 ? req.timeoutSeconds() + 300L : Long.MAX_VALUE / 2000;
            if (!qemu.waitFor(limit, TimeUnit.SECONDS)) {
                log.println("\r\njvmm: the lab did not finish within " + limit + " s; stopping it");
                qemu.destroyForcibly();
                qemu.waitFor();
                pumpOut.join(2000);
                Files.deleteIfExists(qemuLog);
                return ExitCodes.TIMEOUT;
            }
            pumpOut.join(5000);
        } finally {
            watchdog.close();
            HostTools.deleteTree(watchDir);
            input.stopAndJoin();
            if (qemu.isAlive()) {
                qemu.destroyForcibly();
            }
            try {
                Runtime.getRuntime().removeShutdownHook(reaper);
            } catch (IllegalStateException shuttingDown) {
                // the hook is already running
            }
            try {
                toQemu.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
        String qemuMessages = Files.readString(qemuLog).trim();
        Files.deleteIfExists(qemuLog);
        if (userQuit[0]) {
            return ExitCodes.USER_QUIT;
        }
        if (watchdog.gaveUp()) {
            return watchdog.neverBeat() ? FROZE_BEFORE_INIT : ExitCodes.TIMEOUT; // said above, when it happened
        }
        if (console.error() != null) {
            log.println("\r\njvmm: lab: " + console.error());
            return ExitCodes.INTERNAL_ERROR;
        }
        if (req.metricsOut() != null) {
            if (console.metrics() != null) {
                Files.writeString(req.metricsOut(), console.metrics());
            } else {
                log.println("\r\njvmm: the lab reported no metrics for --metrics " + req.metricsOut());
            }
        }
        if (console.exitStatus() == null) {
            log.println("\r\njvmm: the lab ended (QEMU status " + qemu.exitValue() + ") without reporting jvmm's status"
                    + (qemuMessages.isEmpty() ? "" : "; QEMU said: " + qemuMessages));
            return ExitCodes.INTERNAL_ERROR;
        }
        return console.exitStatus();
    }

    /** Files the inner jvmm reads: each host path gets a name under /lab/files. */
    public static final class Attachments {
        private final Map<String, Path> files = new LinkedHashMap<>();

        public String attach(Path host) {
            String name = files.size() + "-" + host.getFileName().toString().replaceAll("[^A-Za-z0-9._-]", "_");
            files.put(name, host.toAbsolutePath());
            return "/lab/files/" + name;
        }

        public Map<String, Path> map() {
            return files;
        }
    }
}
