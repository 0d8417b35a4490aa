package dev.jvmm.vmm.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Keeps two processes from writing one disk image at once: an exclusive flock(2) for a writer,
 * shared for readers, taken without waiting. flock, not fcntl: fcntl locks belong to the process
 * and vanish when any of its descriptors for the file closes, and jvmm opens and closes the same
 * image many times (firmware pass, device, agent marking). flock belongs to one open file, which
 * would make those opens exclude each other, so this process takes each file's lock once, on a
 * descriptor of its own, and counts its holders: within jvmm, holders share it.
 */
public final class DiskLock implements AutoCloseable {
    /** Another process holds a conflicting lock; the message says who, where /proc/locks tells. */
    public static final class InUseException extends IOException {
        public InUseException(String message) {
            super(message);
        }
    }

    record Key(long dev, long ino) {}

    private static final class Held {
        final int fd;
        boolean exclusive;
        int holders;

        Held(int fd, boolean exclusive) {
            this.fd = fd;
            this.exclusive = exclusive;
        }
    }

    private static final Map<Key, Held> HELD = new HashMap<>();

    private final Key key;
    private boolean released;

    private DiskLock(Key key) {
        this.key = key;
    }

    /** Locks {@code path} (shared, or exclusive for a writer); refuses at once when another process holds it. */
    public static DiskLock acquire(Path path, boolean exclusive) throws IOException {
        Key key = keyOf(path);
        try {
            return take(path, key, exclusive);
        } catch (SyscallException e) {
            // A file system without flock (some network ones): say so in one line, do not run unprotected.
            throw new IOException("cannot lock " + path + ": " + e.getMessage());
        }
    }

    private static DiskLock take(Path path, Key key, boolean exclusive) throws InUseException {
        synchronized (HELD) {
            Held h = HELD.get(key);
            if (h == null) {
                int fd = Syscalls.open(path.toString(), Syscalls.O_RDONLY);
                if (!Syscalls.tryFlock(fd, exclusive)) {
                    Syscalls.close(fd);
                    throw inUse(path, key);
                }
                h = new Held(fd, exclusive);
                HELD.put(key, h);
            } else if (exclusive && !h.exclusive) {
                // flock converts by unlocking first; if another process slips in, take back the shared lock.
                if (!Syscalls.tryFlock(h.fd, true)) {
                    Syscalls.tryFlock(h.fd, false);
                    throw inUse(path, key);
                }
                h.exclusive = true;
            }
            h.holders++;
            return new DiskLock(key);
        }
    }

    /** Whether this process holds {@code path}'s lock, for tests. */
    static boolean heldHere(Path path) throws IOException {
        synchronized (HELD) {
            return HELD.containsKey(keyOf(path));
        }
    }

    @Override
    public void close() {
        synchronized (HELD) {
            if (released) {
                return;
            }
            released = true;
            Held h = HELD.get(key);
            if (h != null && --h.holders == 0) {
                HELD.remove(key);
                Syscalls.close(h.fd); // the last descriptor of that open file: the lock goes with it
            }
        }
    }

    static Key keyOf(Path path) throws IOException {
        return new Key((Long) Files.getAttribute(path, "unix:dev"), (Long) Files.getAttribute(path, "unix:ino"));
    }

    private static InUseException inUse(Path path, Key key) {
        long pid = holder(key);
        if (pid <= 0) {
            return new InUseException(path + " is in use by another process (it holds a lock on the file)");
        }
        String cmd = "";
        try {
            cmd = Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
        } catch (IOException | RuntimeException e) {
            // it may just have exited; the pid is still the answer
        }
        String who = cmd.contains("jvmm") ? "another jvmm" : "another process";
        return new InUseException(path + " is in use by " + who + " (pid " + pid + ")");
    }

    /** The pid /proc/locks gives for a flock on the file, or -1. */
    static long holder(Key key) {
        long major = ((key.dev >>> 8) & 0xfff) | ((key.dev >>> 32) & ~0xfffL);
        long minor = (key.dev & 0xff) | ((key.dev >>> 12) & ~0xffL);
        long self = ProcessHandle.current().pid();
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/locks"));
        } catch (IOException e) {
            return -1;
        }
        for (String line : lines) {
            // "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"; waiters carry "->" and are skipped.
            String[] f = line.trim().split("\\s+");
            if (f.length < 6 || !f[1].equals("FLOCK")) {
                continue;
            }
            String[] id = f[5].split(":");
            try {
                if (id.length == 3 && Long.parseLong(id[0], 16) == major && Long.parseLong(id[1], 16) == minor
                        && Long.parseLong(id[2]) == key.ino) {
                    long pid = Long.parseLong(f[4]);
                    if (pid != self) {
                        return pid;
                    }
                }
            } catch (NumberFormatException e) {
                // a line in a format this reader does not know names no holder
            }
        }
        return -1;
    }
}
