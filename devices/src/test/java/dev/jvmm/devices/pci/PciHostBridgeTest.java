package dev.jvmm.devices.pci;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PciHostBridgeTest {
    private final PciHostBridge bridge = new PciHostBridge();

    private void out(int port, int size, long v) {
        byte[] d = new byte[size];
        for (int i = 0; i < size; i++) {
            d[i] = (byte) (v >>> (8 * i));
        }
        bridge.write(port - PciHostBridge.PORT, d);
    }

    private long in(int port, int size) {
        byte[] d = new byte[size];
        bridge.read(port - PciHostBridge.PORT, d);
        long v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = (v << 8) | (d[i] & 0xff);
        }
        return v;
    }

    /** pci_conf1_read: address to 0xCF8, then 1, 2 or 4 bytes from 0xCFC + (reg & 3). */
    private long conf1Read(int bus, int devfn, int reg, int size) {
        out(0xcf8, 4, 0x80000000L | (bus << 16) | (devfn << 8) | (reg & 0xfc));
        return in(0xcfc + (reg & 3), size);
    }

    @Test
    void linuxsType1ProbeAndSanityCheckPass() {
        // pci_check_type1: outb(0x01, 0xCFB); tmp = inl(0xCF8); outl(0x80000000, 0xCF8); inl(0xCF8) == 0x80000000
        out(0xcfb, 1, 0x01);
        long tmp = in(0xcf8, 4);
        out(0xcf8, 4, 0x80000000L);
        assertEquals(0x80000000L, in(0xcf8, 4));
        // pci_sanity_check: some devfn on bus 0 has class PCI_CLASS_BRIDGE_HOST (0x0600)
        assertEquals(0x0600, conf1Read(0, 0, 0x0a, 2));
        out(0xcf8, 4, tmp);
        assertEquals(tmp, in(0xcf8, 4));
    }

    @Test
    void theBridgeIsTheOnlyDevice() {
        assertEquals(0x00081b36L, conf1Read(0, 0, 0x00, 4), "vendor 1b36, device 0008");
        assertEquals(0x06000000L, conf1Read(0, 0, 0x08, 4), "class 06.00.00, revision 0");
        assertEquals(0x00, conf1Read(0, 0, 0x0e, 1), "header type 0, single function");
        assertEquals(0x06, conf1Read(0, 0, 0x0b, 1), "base class alone");
        assertEquals(0L, conf1Read(0, 0, 0x10, 4), "no BARs");
        assertEquals(0xffffffffL, conf1Read(0, 1 << 3, 0x00, 4), "00:01.0 absent");
        assertEquals(0xffffL, conf1Read(0, 1, 0x00, 2), "00:00.1 absent");
        assertEquals(0xffffffffL, conf1Read(1, 0, 0x00, 4), "bus 1 absent");
        out(0xcf8, 4, 0); // enable bit clear: no configuration cycle
        assertEquals(0xffffffffL, in(0xcfc, 4));
    }

    @Test
    void writesAreDropped() {
        out(0xcf8, 4, 0x80000004L);
        out(0xcfc, 2, 0x0007); // command: I/O, memory, bus master
        assertEquals(0L, conf1Read(0, 0, 0x04, 4));
        out(0xcf8, 4, 0x80000000L);
        out(0xcfc, 4, 0xdeadbeefL);
        assertEquals(0x00081b36L, conf1Read(0, 0, 0x00, 4));
    }
}
