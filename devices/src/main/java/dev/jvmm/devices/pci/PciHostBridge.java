package dev.jvmm.devices.pci;

import dev.jvmm.vmm.bus.BusDevice;

import java.util.Arrays;

/**
 * PCI configuration mechanism #1 at 0xCF8 (address) and 0xCFC-0xCFF (data) with a single host
 * bridge at 00:00.0 and no other device. Why: jvmm's guest kernel needs CONFIG_PCI for ACPI (6.1's
 * ACPICA loads no table without it), and a PCI kernel that finds no way to reach configuration
 * space logs "PCI: Fatal: No config space access function found" (an error even under
 * {@code quiet}) and "PCI: System does not support PCI". Linux accepts mechanism #1 when the
 * address register reads back and bus 0 holds a host bridge (arch/x86/pci/direct.c,
 * pci_check_type1 and pci_sanity_check); with ACPI it then enumerates nothing, since the DSDT
 * has no PCI root. The bridge is Red Hat's generic virtual host bridge (1b36:0008), an ID no
 * chipset quirk or MMCONFIG probe in Linux matches. Read-only: writes to its registers are
 * dropped, and every other bus/device/function reads as absent (all ones).
 */
public final class PciHostBridge implements BusDevice {
    /** Ports from 0xCF8. */
    public static final int PORT = 0xcf8, SIZE = 8;
    static final int ADDRESS = 0, DATA = 4;
    static final int ENABLE = 1 << 31;
    static final int VENDOR_RED_HAT = 0x1b36, DEVICE_HOST_BRIDGE = 0x0008;
    static final int CLASS_HOST_BRIDGE = 0x0600;

    /** The bridge's 256-byte configuration header: IDs, class 06.00.00, header type 0, the rest zero. */
    private final byte[] header = new byte[256];
    private int address;

    public PciHostBridge() {
        put16(0x00, VENDOR_RED_HAT);
        put16(0x02, DEVICE_HOST_BRIDGE);
        put16(0x0a, CLASS_HOST_BRIDGE); // sub-class 0x00 at 0x0a, base class 0x06 at 0x0b; prog-if and revision 0
    }

    private void put16(int at, int v) {
        header[at] = (byte) v;
        header[at + 1] = (byte) (v >> 8);
    }

    @Override
    public synchronized void read(long offset, byte[] data) {
        Arrays.fill(data, (byte) 0xff);
        if (offset == ADDRESS && data.length == 4) {
            for (int i = 0; i < 4; i++) {
                data[i] = (byte) (address >>> (8 * i));
            }
        } else if (offset >= DATA && offset + data.length <= SIZE && bridgeSelected()) {
            int at = (address & 0xfc) + (int) (offset - DATA);
            System.arraycopy(header, at, data, 0, data.length);
        }
    }

    @Override
    public synchronized void write(long offset, byte[] data) {
        // Only a whole-dword write to 0xCF8 is a configuration address; narrower ones are other
        // I/O on a real chipset (0xCFB, 0xCF9) and mean nothing here.
        if (offset == ADDRESS && data.length == 4) {
            address = (data[0] & 0xff) | (data[1] & 0xff) << 8 | (data[2] & 0xff) << 16 | (data[3] & 0xff) << 24;
        }
    }

    /** Enabled, bus 0, device 0, function 0 (the register number is the low byte). */
    private boolean bridgeSelected() {
        return (address & ENABLE) != 0 && (address & 0x00ffff00) == 0;
    }
}
