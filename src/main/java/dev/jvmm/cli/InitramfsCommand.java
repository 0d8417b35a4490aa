package dev.jvmm.cli;

import dev.jvmm.images.initramfs.BusyboxInitramfs;
import dev.jvmm.machine.arch.Arch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "initramfs", mixinStandardHelpOptions = true,
        description = {"Build a busybox initramfs (gzip'd cpio) around an /init script.",
                "Without --init, jvmm's default init: a shell on the console."})
final class InitramfsCommand implements Callable<Integer> {
    @Option(names = "--init", paramLabel = "FILE", description = "script to install as /init")
    Path init;

    @Option(names = "--out", paramLabel = "FILE", required = true, description = "where to write the initramfs")
    Path out;

    @Option(names = "--arch", paramLabel = "ARCH",
            description = "the guest's architecture, x86_64 or aarch64 (default: the host's, with the host's /bin/busybox;"
                    + " aarch64 on another host: Debian's busybox-static:arm64, fetched once)")
    Arch arch;

    @Override
    public Integer call() throws Exception {
        Path busybox = Guest.busybox(arch);
        String script = init == null ? BusyboxInitramfs.defaultInit() : Files.readString(init);
        try (OutputStream o = Files.newOutputStream(out)) {
            BusyboxInitramfs.create(script, busybox).writeTo(o, true);
        }
        System.out.println(out.toAbsolutePath());
        return 0;
    }
}
