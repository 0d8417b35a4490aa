package dev.jvmm.vmm.sys;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A Linux TAP interface opened through /dev/net/tun with IFF_TAP, IFF_NO_PI and IFF_VNET_HDR:
 * every frame read or written is preceded by a virtio-net header of {@link #vnetHeaderSize()}
 * bytes, so offloads pass between guest and host kernel untouched.
 */
public final class Tap implements AutoCloseable {
    public static final long TUNSETIFF = 0x400454caL;
    public static final long TUNSETOFFLOAD = 0x400454d0L;
    public static final long TUNSETVNETHDRSZ = 0x400454d8L;
    public static final short IFF_TAP = 0x0002;
    public static final short IFF_NO_PI = 0x1000;
    public static final short IFF_VNET_HDR = 0x4000;
    public static final int TUN_F_CSUM = 0x01;
    public static final int TUN_F_TSO4 = 0x02;
    public static final int TUN_F_TSO6 = 0x04;
    public static final int TUN_F_TSO_ECN = 0x08;
    static final int IFREQ_SIZE = 40;

    private final String name;
    private final int fd;
    private final int vnetHeaderSize;

    private Tap(String name, int fd, int vnetHeaderSize) {
        this.name = name;
        this.fd = fd;
        this.vnetHeaderSize = vnetHeaderSize;
    }

    /** Thrown with a message a user can act on: missing device, permission, busy, wrong kind of interface. */
    public static final class TapException extends Exception {
        public TapException(String message) {
            super(message);
        }
    }

    /** Opens (or, with CAP_NET_ADMIN, creates) the TAP {@code name}. */
    public static Tap open(String name, int vnetHeaderSize) throws TapException {
        int fd;
        try {
            fd = Syscalls.open("/dev/net/tun", Syscalls.O_RDWR);
        } catch (SyscallException e) {
            throw new TapException(switch (e.errno()) {
                case Errno.ENOENT, Errno.ENODEV, Errno.ENXIO -> "/dev/net/tun does not exist (load the tun module: modprobe tun)";
                case Errno.EACCES, Errno.EPERM -> "no permission to open /dev/net/tun";
                default -> "cannot open /dev/net/tun: " + Errno.describe(e.errno());
            });
        }
        try {
            ByteBuffer ifr = Syscalls.struct(IFREQ_SIZE);
            byte[] n = name.getBytes(StandardCharsets.US_ASCII);
            ifr.put(0, n, 0, Math.min(n.length, 15));
            ifr.putShort(16, (short) (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR));
            int r = Syscalls.ioctlNoThrow(fd, TUNSETIFF, Syscalls.address(ifr));
            if (r < 0) {
                throw new TapException(switch (-r) {
                    case Errno.EPERM, Errno.EACCES -> "TAP " + name + ": permission denied (jvmm needs CAP_NET_ADMIN, or a TAP made"
                            + " for this user: ip tuntap add " + name + " mode tap user $USER)";
                    case Errno.EBUSY -> "TAP " + name + " is in use by another process";
                    case Errno.EINVAL -> "TAP " + name + ": " + name + " exists but is not a TAP jvmm can attach to (a TUN, or made without vnet headers?)";
                    default -> "TAP " + name + ": TUNSETIFF failed: " + Errno.describe(-r);
                });
            }
            ByteBuffer size = Syscalls.struct(4);
            size.putInt(0, vnetHeaderSize);
            Syscalls.ioctl(fd, TUNSETVNETHDRSZ, Syscalls.address(size), "TUNSETVNETHDRSZ");
            return new Tap(name, fd, vnetHeaderSize);
        } catch (TapException | RuntimeException e) {
            Syscalls.close(fd);
            throw e;
        }
    }

    public String name() {
        return name;
    }

    public int vnetHeaderSize() {
        return vnetHeaderSize;
    }

    /** Which offloads the host kernel may hand us (TUN_F_*); false if the TAP refuses them. */
    public boolean setOffload(int flags) {
        return Syscalls.ioctlNoThrow(fd, TUNSETOFFLOAD, flags) >= 0;
    }

    /** Has {@code epoll} report this TAP's frames (IN, and ERR once the interface is gone) under {@code token}. */
    public void watch(Epoll epoll, long token) {
        epoll.add(fd, Epoll.IN, token);
    }

    /** Stops {@code epoll} reporting this TAP. */
    public void unwatch(Epoll epoll) {
        epoll.remove(fd);
    }

    /** Reads one frame (header included) into the start of {@code direct}; returns its length, or -errno. */
    public long read(ByteBuffer direct) {
        return Syscalls.read(fd, direct, direct.capacity());
    }

    /** Writes one frame (header included) from the start of {@code direct}; returns bytes written, or -errno. */
    public long write(ByteBuffer direct, int length) {
        return Syscalls.write(fd, direct, length);
    }

    @Override
    public void close() {
        Syscalls.close(fd);
    }
}
