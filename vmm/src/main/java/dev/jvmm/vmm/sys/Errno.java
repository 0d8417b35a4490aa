package dev.jvmm.vmm.sys;

/** The errno values jvmm reacts to, and a readable name for any of them. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int E2BIG = 7;
    public static final int ENXIO = 6;
    public static final int ENOMEM = 12;
    public static final int ENOTTY = 25;
    public static final int EOPNOTSUPP = 95;
    public static final int EBADF = 9;

    private Errno() {}

    public static String describe(int errno) {
        String name = switch (errno) {
            case EPERM -> "EPERM (operation not permitted)";
            case ENOENT -> "ENOENT (no such file or directory)";
            case EINTR -> "EINTR (interrupted)";
            case EAGAIN -> "EAGAIN (try again)";
            case EACCES -> "EACCES (permission denied)";
            case EFAULT -> "EFAULT (bad address)";
            case EBUSY -> "EBUSY (device busy)";
            case EEXIST -> "EEXIST (already exists)";
            case ENODEV -> "ENODEV (no such device)";
            case EINVAL -> "EINVAL (invalid argument)";
            case E2BIG -> "E2BIG (argument list too long)";
            case ENXIO -> "ENXIO (no such device or address)";
            case ENOMEM -> "ENOMEM (out of memory)";
            case ENOTTY -> "ENOTTY (inappropriate ioctl)";
            case EOPNOTSUPP -> "EOPNOTSUPP (not supported)";
            case EBADF -> "EBADF (bad file descriptor)";
            default -> "errno " + errno;
        };
        return name;
    }
}
