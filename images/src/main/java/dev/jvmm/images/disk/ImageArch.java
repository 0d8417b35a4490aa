package dev.jvmm.images.disk;

import dev.jvmm.images.HostTools;
import dev.jvmm.images.initramfs.BusyboxInitramfs;
import dev.jvmm.images.kernel.KernelBuilder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The architecture an image is built for, with what makes its userland on this host: the
 * static busybox of that architecture (the host's own, or Debian's busybox-static:arm64 that the
 * arm64 lab fetches), the C compiler for the agent (gcc, or Debian's cross gcc) and the kernel
 * (jvmm's, as the layout ships it: x86_64's bzImage; arm64's Image.gz as Bottlerocket's vmlinuz,
 * the plain Image in COS's KERN partition).
 *
 * @param name    x86_64 or aarch64, as {@code uname -m} says
 * @param busybox a static busybox for {@code name}
 */
public record ImageArch(String name, Path busybox) {
    public ImageArch {
        if (!KernelBuilder.ARCHES.contains(name)) {
            throw new IllegalArgumentException("images are built for " + String.join(" and ", KernelBuilder.ARCHES)
                    + ", not " + name);
        }
    }

    /** x86_64 with the host's busybox: what every image was before there were two architectures. */
    public static ImageArch x86_64() {
        return new ImageArch("x86_64", BusyboxInitramfs.BUSYBOX);
    }

    /** The host's own architecture, with the host's busybox. */
    public static ImageArch host() {
        return new ImageArch(hostName(), BusyboxInitramfs.BUSYBOX);
    }

    /** This JVM's architecture as {@code uname -m} names it. */
    public static String hostName() {
        String a = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        return a.equals("aarch64") || a.equals("arm64") ? "aarch64" : "x86_64";
    }

    /** Whether this host runs the architecture's programs itself (its busybox, its compiler's output). */
    boolean runsHere() {
        return name.equals(hostName());
    }

    /** The C compiler that makes static programs for it here. */
    String compiler() {
        return runsHere() ? "gcc" : name + "-linux-gnu-gcc";
    }

    /** The host tools the userland needs besides the file-system tools. */
    List<HostTools.Requirement> needs() {
        if (runsHere()) {
            return List.of(new HostTools.Requirement("/usr/bin/gcc", "gcc"),
                    new HostTools.Requirement("/usr/lib/" + name + "-linux-gnu/libc.a", "libc6-dev"));
        }
        String debian = name.equals("aarch64") ? "arm64" : "amd64";
        return List.of(new HostTools.Requirement("/usr/bin/" + compiler(), "gcc-" + name + "-linux-gnu"),
                new HostTools.Requirement("/usr/" + name + "-linux-gnu/lib/libc.a", "libc6-dev-" + debian + "-cross"));
    }

    /**
     * What the image's seeds (GUIDs, salt, timestamps) start with: nothing for x86_64, so its
     * images stay byte for byte what they were; the arch otherwise, so that an arm64 image shares
     * no GUID with the x86_64 image of the same layout and version.
     */
    String seedPrefix() {
        return name.equals("x86_64") ? "" : name + "/";
    }

    /** jvmm's kernel for this architecture in the form {@code layout} ships (built or taken from the cache). */
    Path kernel(Layout layout) throws IOException, InterruptedException {
        KernelBuilder.Built built = new KernelBuilder(name).buildOrReuse();
        if (name.equals("x86_64")) {
            return built.bzImage();
        }
        if (layout == Layout.COS) {
            return built.image();
        }
        Path gz = built.image().resolveSibling("Image.gz");
        if (!Files.isRegularFile(gz)) {
            throw new IOException("the " + name + " kernel build in " + gz.getParent() + " has no Image.gz; remove the"
                    + " directory and run: jvmm kernel build --arch " + name);
        }
        return gz;
    }
}
