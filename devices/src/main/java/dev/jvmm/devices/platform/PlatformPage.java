package dev.jvmm.devices.platform;

import dev.jvmm.vmm.bus.BusDevice;

/**
 * jvmm's platform page. Offset 0 is Firecracker's boot timer: a byte write of 123 marks "guest
 * ready". Offset 0x10 is the exit register: a byte N written there stops the VM, and jvmm exits
 * with status N. A busybox guest uses {@code devmem 0xc0000010 8 N} on x86_64 (0x40000010 on
 * aarch64); the board names the page's address on the kernel command line ({@code
 * jvmm.platform=}, dev.jvmm.boot.PlatformWord) so that one script serves both.
 */
public final class PlatformPage implements BusDevice {
    public static final long SIZE = 0x1000;
    public static final int BOOT_TIMER = 0x0;
    public static final int BOOT_TIMER_MAGIC = 123;
    public static final int EXIT_REGISTER = 0x10;

    /** What the guest tells the host through this page. */
    public interface Events {
        void guestReady();

        void exitRequested(int status);
    }

    private final Events events;

    public PlatformPage(Events events) {
        this.events = events;
    }

    @Override
    public void read(long offset, byte[] data) {
        java.util.Arrays.fill(data, (byte) 0);
    }

    @Override
    public void write(long offset, byte[] data) {
        int v = data[0] & 0xff;
        if (offset == BOOT_TIMER && v == BOOT_TIMER_MAGIC) {
            events.guestReady();
        } else if (offset == EXIT_REGISTER) {
            events.exitRequested(v);
        }
    }
}
