package dev.jvmm.bootbench;

import dev.jvmm.images.Cache;
import dev.jvmm.images.Hashing;
import dev.jvmm.images.HostTools;
import dev.jvmm.images.initramfs.Initramfs;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The peer VMMs packed for the lab's L1: Debian's qemu-system-x86_64 with every library ldd
 * lists for it (those L1's base archive already has left out) and the dynamic loader, the
 * firmware microvm loads, and the floor. A cpio fragment appended to L1's initramfs, cached by
 * everything it holds.
 */
public final class PeerArchive {
    /**
     * What microvm reads with x-option-roms=off: its BIOS (Debian: a link to qboot.rom), by this
     * name when ACPI is on, as qboot.rom when it is off. Both names are packed; the option ROMs
     * (linuxboot_dma.bin, pvh.bin) are not, since with x-option-roms=off qboot loads the kernel
     * itself from fw_cfg (seen with strace: QEMU 7.2 opens no other firmware file).
     */
    public static final String MICROVM_BIOS = "bios-microvm.bin";
    static final List<String> FIRMWARE = List.of(MICROVM_BIOS, "qboot.rom");

    private PeerArchive() {}

    /**
     * The archive in the cache, built now if its inputs changed. {@code alreadyInL1}: library
     * paths L1 already has (Lab.baseLibraries).
     */
    public static Path buildCached(Path floor, Set<String> alreadyInL1) throws IOException, InterruptedException {
        HostTools.ensure("QEMU in the lab", List.of(new HostTools.Requirement(PeerPaths.HOST_QEMU.toString(),
                "qemu-system-x86")));
        List<Path> libs = libraries(PeerPaths.HOST_QEMU).stream().filter(l -> !alreadyInL1.contains(l.toString())).toList();
        StringBuilder key = new StringBuilder();
        for (Path p : inputs(floor, libs)) {
            key.append(p).append(':').append(Files.size(p)).append(':').append(Files.getLastModifiedTime(p).toMillis())
                    .append(';');
        }
        Path out = Cache.dir("bootbench").resolve("peers-" + Hashing.key(key, "v1") + ".cpio");
        if (Files.isRegularFile(out)) {
            return out;
        }
        Initramfs fs = new Initramfs();
        fs.fileFrom(relative(PeerPaths.HOST_QEMU), PeerPaths.HOST_QEMU.toRealPath(), 0755);
        for (Path lib : libs) {
            fs.fileFrom(relative(lib), lib.toRealPath(), 0755);
        }
        for (String f : FIRMWARE) {
            fs.fileFrom(relative(PeerPaths.IN_LAB.qemuFirmware().resolve(f)),
                    PeerPaths.HOST_QEMU_FIRMWARE.resolve(f).toRealPath(), 0644);
        }
        fs.fileFrom(relative(PeerPaths.IN_LAB.floor()), floor, 0755);
        Files.createDirectories(out.getParent());
        Path tmp = Files.createTempFile(out.getParent(), "peers", ".tmp");
        try (OutputStream o = Files.newOutputStream(tmp)) {
            fs.writeTo(o, false); // uncompressed, like the lab's own archives: gunzip under TCG costs seconds
        }
        Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return out;
    }

    private static List<Path> inputs(Path floor, List<Path> libs) {
        List<Path> all = new ArrayList<>(List.of(PeerPaths.HOST_QEMU, floor));
        all.addAll(libs);
        FIRMWARE.forEach(f -> all.add(PeerPaths.HOST_QEMU_FIRMWARE.resolve(f)));
        return all;
    }

    private static String relative(Path absolute) {
        return absolute.toString().substring(1);
    }

    /** The shared libraries {@code binary} loads, as ldd reports them, the dynamic loader included. */
    static List<Path> libraries(Path binary) throws IOException {
        String out = HostTools.output("ldd", binary.toString());
        if (out == null) {
            throw new IOException("ldd " + binary + " failed");
        }
        return parseLdd(out);
    }

    /** The absolute paths in ldd's output ("libz.so.1 => /lib/.../libz.so.1 (0x...)", "/lib64/ld-linux... (0x...)"). */
    static List<Path> parseLdd(String ldd) {
        Set<String> libs = new TreeSet<>();
        for (String line : ldd.split("\n")) {
            line = line.trim();
            int arrow = line.indexOf("=> /");
            String path = arrow >= 0 ? line.substring(arrow + 3) : line.startsWith("/") ? line : null;
            if (path != null) {
                libs.add(path.split(" ")[0]);
            }
        }
        return libs.stream().map(Path::of).toList();
    }
}
