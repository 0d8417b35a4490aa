package dev.jvmm.cli;

import dev.jvmm.images.Cache;
import dev.jvmm.machine.JvmmCommand;
import dev.jvmm.machine.Startup;
import dev.jvmm.vmm.sys.NativeBoot;
import dev.jvmm.vmm.sys.Syscalls;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The training run of jvmm's class-data archive (AppCDS). The JVM started with
 * {@code -XX:DumpLoadedClassList} records every class loaded by the time it exits; a second JVM
 * ({@code -Xshare:dump}) archives them parsed and verified, so later runs map them instead of
 * reading, parsing and verifying them again: the largest part of jvmm's start-up. A boot needs
 * /dev/kvm, which a training run cannot count on, so this run parses a boot command line as a
 * boot would (picocli's model), loads jvmm's native library and the C library bindings, and
 * loads, without initialising, the classes of jvmm and picocli. Run by the launcher (once per
 * jar) and by jvmm bench boot.
 */
public final class ClassDataTraining {
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

    /** The classes the archive holds whole ({@link JvmmCommand.ClassDataArchive#PACKAGES}), as Class.forName names them. */
    static List<String> classNames(Path jar) throws IOException {
        List<String> names = new ArrayList<>();
        for (String n : JvmmCommand.ClassDataArchive.classNames(jar)) {
            names.add(n.replace('/', '.'));
        }
        return names;
    }
}
