package dev.jvmm.vmm.sys;

import java.nio.file.Path;

/** A second jvmm process for {@link DiskLockTest}: locks a file exclusively and holds it until killed. */
public final class DiskLockHolder {
    private DiskLockHolder() {}

    public static void main(String[] args) throws Exception {
        try (DiskLock lock = DiskLock.acquire(Path.of(args[0]), true)) {
            System.out.println("locked");
            System.out.flush();
            Thread.sleep(60_000);
        }
    }
}
