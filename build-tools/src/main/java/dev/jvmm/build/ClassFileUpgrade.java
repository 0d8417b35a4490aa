package dev.jvmm.build;

import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Rewrites the class files of the named packages in a jar from a class-file version older than
 * 50 (Java 6) to version 52 (Java 8), with the stack-map frames such a version must carry.
 *
 * <p>Why: picocli's jar is compiled for Java 5. HotSpot verifies a class older than version 50
 * with the old type-inferring verifier, and JDK 17's class-data archive keeps such a class
 * unverified, so every start of jvmm verified picocli's ~200 classes again: 20 of the 54 ms from
 * main to the parsed command line on this project's machines (measured with
 * {@code -XX:-BytecodeVerificationRemote}, which this build never uses). With frames, the archive
 * is dumped with them verified. Only the version and the frames change (ASM computes the frames);
 * every other entry is copied as it is, in the same order.
 *
 * <p>The jar is replaced atomically: a class this cannot rewrite (a {@code jsr}, a corrupt file)
 * stops the build with its name and leaves the jar as it was.
 */
public final class ClassFileUpgrade {
    /** The version written: Java 8's, whose verifier takes only the frames (no fallback). */
    static final int TARGET = Opcodes.V1_8;
    /** Classes older than this are rewritten: HotSpot's type-checking verifier starts at 50. */
    static final int FIRST_WITH_FRAMES = 50;

    private ClassFileUpgrade() {}

    /** {@code JAR PACKAGE...}: the package prefixes as paths ("picocli/"). */
    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: ClassFileUpgrade JAR PACKAGE-PATH...");
        }
        List<String> prefixes = List.of(args).subList(1, args.length);
        int n = upgrade(Path.of(args[0]), prefixes);
        System.out.println("[jvmm build] " + args[0] + ": " + n + " class files under " + prefixes
                + " rewritten to version " + TARGET + " with stack-map frames");
    }

    /** Rewrites {@code jar} in place; returns how many classes changed (0: the jar is untouched). */
    public static int upgrade(Path jar, List<String> prefixes) throws IOException {
        Path partial = jar.resolveSibling(jar.getFileName() + ".upgrading");
        int changed = 0;
        try (ZipFile zip = new ZipFile(jar.toFile());
             URLClassLoader hierarchy = new URLClassLoader(new URL[]{jar.toUri().toURL()},
                     ClassLoader.getPlatformClassLoader());
             OutputStream file = Files.newOutputStream(partial);
             ZipOutputStream out = new ZipOutputStream(file)) {
            List<? extends ZipEntry> entries = entries(zip);
            for (ZipEntry entry : entries) {
                byte[] bytes;
                try (InputStream in = zip.getInputStream(entry)) {
                    bytes = in.readAllBytes();
                }
                if (selected(entry.getName(), prefixes) && majorVersion(bytes, entry.getName()) < FIRST_WITH_FRAMES) {
                    bytes = rewrite(bytes, entry.getName(), hierarchy);
                    changed++;
                }
                ZipEntry copy = new ZipEntry(entry.getName());
                copy.setTime(entry.getTime());
                out.putNextEntry(copy);
                out.write(bytes);
                out.closeEntry();
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(partial);
            throw e;
        }
        if (changed == 0) {
            Files.delete(partial);
            return 0;
        }
        Files.move(partial, jar, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return changed;
    }

    private static List<? extends ZipEntry> entries(ZipFile zip) {
        List<ZipEntry> list = new ArrayList<>();
        Enumeration<? extends ZipEntry> e = zip.entries();
        while (e.hasMoreElements()) {
            list.add(e.nextElement());
        }
        return list;
    }

    static boolean selected(String name, List<String> prefixes) {
        if (!name.endsWith(".class") || name.endsWith("module-info.class")) {
            return false;
        }
        for (String p : prefixes) {
            if (name.startsWith(p)) {
                return true;
            }
        }
        return false;
    }

    /** The class file's major version, checking its magic number. */
    static int majorVersion(byte[] b, String name) {
        if (b.length < 8 || (b[0] & 0xff) != 0xCA || (b[1] & 0xff) != 0xFE || (b[2] & 0xff) != 0xBA
                || (b[3] & 0xff) != 0xBE) {
            throw new IllegalArgumentException(name + " is not a class file (no CAFEBABE magic)");
        }
        return ((b[6] & 0xff) << 8) | (b[7] & 0xff);
    }

    /**
     * The class at version {@link #TARGET}, frames computed. ASM finds two types' common super
     * class by loading them (not initialising them) from {@code hierarchy}: the jar itself over
     * the JDK's platform classes.
     */
    static byte[] rewrite(byte[] bytes, String name, ClassLoader hierarchy) {
        try {
            ClassReader reader = new ClassReader(bytes);
            ClassWriter writer = new ClassWriter(ClassWriter.COMPUTE_FRAMES) {
                @Override
                protected ClassLoader getClassLoader() {
                    return hierarchy;
                }
            };
            reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
                @Override
                public void visit(int version, int access, String className, String signature, String superName,
                                  String[] interfaces) {
                    super.visit(TARGET, access, className, signature, superName, interfaces);
                }
            }, 0);
            return writer.toByteArray();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("cannot rewrite " + name + ": " + e, e);
        }
    }
}
