package dev.jvmm.cli;

import dev.jvmm.images.Cache;
import dev.jvmm.machine.Startup;
import dev.jvmm.vmm.sys.NativeBoot;
import dev.jvmm.vmm.sys.Syscalls;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The training run of jvmm's class-data archive (AppCDS). The JVM started with
 * {@code -XX:ArchiveClassesAtExit} archives every class loaded by the time it exits, parsed and
 * verified, so later runs map them instead of reading, parsing and verifying them again: the
 * largest part of jvmm's start-up. A boot needs /dev/kvm, which a training run cannot count on,
 * so this run parses a boot command line as a boot would (picocli's model), loads jvmm's
 * native library and the C library bindings, and loads, without initialising, the classes of
 * jvmm and of the libraries a boot uses. Run by the launcher (once per jar) and by jvmm bench boot.
 */
public final class ClassDataTraining {
    /** Class-name prefixes a boot (kernel or image) can load; Netty for an image's vsock. */
    static final List<String> PACKAGES = List.of("dev/jvmm/", "picocli/",
            "com/fasterxml/jackson/core/", "com/fasterxml/jackson/databind/", "io/netty/buffer/", "io/netty/channel/",
            "io/netty/util/", "io/netty/bootstrap/", "io/netty/handler/codec/", "net/jpountz/");

    private ClassDataTraining() {}

    public static void main(String[] args) throws IOException {
        Startup.mainEntered();
        NativeBoot.prepare(Cache.dir("native"));
        // A boot's own first steps, for real.
        Main.commandLine("boot").parseArgs("boot", "--kernel", "vmlinux", "--initrd", "initrd", "--timeout", "1",
                "--timeline", "--lab=never");
        Syscalls.close(Syscalls.eventfd(0));
        Syscalls.isTerminal(0);
        int loaded = 0;
        int skipped = 0;
        ClassLoader loader = ClassDataTraining.class.getClassLoader();
        for (String name : classNames(ownJar())) {
            try {
                Class.forName(name, false, loader);
                loaded++;
            } catch (LinkageError | ClassNotFoundException optionalDependencyMissing) {
                skipped++; // a class for a library jvmm does not ship (Netty's BlockHound support, say)
            }
        }
        System.out.println("jvmm: class-data training loaded " + loaded + " classes (" + skipped + " skipped)");
    }

    static Path ownJar() throws IOException {
        try {
            return Path.of(ClassDataTraining.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IOException(e);
        }
    }

    /** The classes of {@link #PACKAGES} in {@code jar}, skipping multi-release variants and module descriptors. */
    static List<String> classNames(Path jar) throws IOException {
        List<String> names = new ArrayList<>();
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            for (ZipEntry e : Collections.list(zip.entries())) {
                String n = e.getName();
                if (n.endsWith(".class") && !n.startsWith("META-INF/") && !n.endsWith("module-info.class")
                        && PACKAGES.stream().anyMatch(n::startsWith)) {
                    names.add(n.substring(0, n.length() - ".class".length()).replace('/', '.'));
                }
            }
        }
        return names;
    }
}
