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
 * loads, without initialising, the classes of jvmm and picocli and the JDK's that a boot loads
 * past that point. Run by the launcher (once per jar) and by jvmm bench boot.
 */
public final class ClassDataTraining {
    /**
     * JDK classes a boot loads once it has /dev/kvm, which this run cannot reach (the console's
     * scheduled flusher, the signal handler, charsets, the formatter of the timeline); read off
     * {@code -Xlog:class+load} of a boot on a host with KVM. Outside the archive each is read
     * from the runtime image and parsed on the way to the first KVM_RUN or the exit.
     */
    static final List<String> BOOT_JDK_CLASSES = List.of("java.nio.charset.StandardCharsets", "sun.nio.cs.US_ASCII",
            "sun.nio.cs.ISO_8859_1", "sun.nio.cs.UTF_16BE", "sun.nio.cs.UTF_16LE", "sun.nio.cs.UTF_16",
            "java.util.concurrent.Executors$DelegatedExecutorService",
            "java.util.concurrent.Executors$DelegatedScheduledExecutorService",
            "java.util.concurrent.ScheduledThreadPoolExecutor",
            "java.util.concurrent.ScheduledThreadPoolExecutor$DelayedWorkQueue",
            "java.util.concurrent.ScheduledThreadPoolExecutor$ScheduledFutureTask", "java.util.concurrent.RunnableFuture",
            "java.util.concurrent.Delayed", "java.util.concurrent.ScheduledFuture",
            "java.util.concurrent.RunnableScheduledFuture", "java.util.concurrent.ArrayBlockingQueue",
            "java.util.concurrent.locks.AbstractQueuedSynchronizer$Node",
            "java.util.concurrent.locks.AbstractQueuedSynchronizer$ConditionNode",
            "java.util.concurrent.locks.AbstractQueuedSynchronizer$ExclusiveNode", "sun.misc.Signal",
            "sun.misc.Signal$InternalMiscHandler", "sun.misc.Signal$SunMiscHandler", "jdk.internal.misc.Signal$1",
            "java.util.Formatter", "java.util.Formatter$FormatString", "java.util.Formatter$FixedString",
            "java.util.Formatter$Conversion", "java.util.Formatter$FormatSpecifier", "java.util.Formatter$Flags",
            "java.util.Formattable", "jdk.internal.math.FormattedFloatingDecimal",
            "jdk.internal.math.FormattedFloatingDecimal$Form", "jdk.internal.math.FormattedFloatingDecimal$1",
            "jdk.internal.math.FormattedFloatingDecimal$2", "java.nio.charset.CharsetDecoder",
            "sun.nio.cs.UTF_8$Decoder", "sun.nio.cs.StreamDecoder", "java.io.PrintWriter",
            "sun.nio.ch.ChannelInputStream", "java.io.FileInputStream$1", "java.nio.file.AccessMode",
            // Drives' scratch-copy age, and Files.isReadable's access check on the kernel file.
            "java.time.Duration", "sun.nio.fs.UnixFileSystemProvider$3");

    private ClassDataTraining() {}

    public static void main(String[] args) throws IOException {
        Startup.mainEntered();
        NativeBoot.prepare(Cache.dir("native"));
        // A boot's own first steps, for real.
        Main.leavePicocliUnusedParts();
        Main.commandLine("boot").parseArgs("boot", "--kernel", "vmlinux", "--initrd", "initrd", "--timeout", "1",
                "--timeline", "--lab=never");
        Startup.origin(); // what a boot's timeline works out when it is printed
        Syscalls.close(Syscalls.eventfd(0));
        Syscalls.isTerminal(0);
        int loaded = 0;
        int skipped = 0;
        ClassLoader loader = ClassDataTraining.class.getClassLoader();
        List<String> names = new ArrayList<>(classNames(ownJar()));
        names.addAll(BOOT_JDK_CLASSES);
        for (String name : names) {
            try {
                Class.forName(name, false, loader);
                loaded++;
            } catch (LinkageError | ClassNotFoundException optionalOrAbsent) {
                skipped++; // a class for a library jvmm does not ship (Netty's BlockHound support), or not in this JDK
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
