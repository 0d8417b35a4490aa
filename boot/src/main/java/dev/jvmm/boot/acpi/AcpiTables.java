package dev.jvmm.boot.acpi;

import dev.jvmm.boot.x86.X86Layout;
import dev.jvmm.vmm.memory.GuestMemory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * ACPI tables for an x86 guest without firmware: RSDP, XSDT, a hardware-reduced FADT whose
 * sleep control register lets a guest poweroff reach jvmm, a MADT with one local APIC per vCPU
 * and the IOAPIC, and a DSDT naming the legacy devices and any virtio-mmio devices.
 */
public final class AcpiTables {
    public static final String OEM_ID = "JVMM  ";
    public static final String OEM_TABLE_ID = "JVMMVM  ";
    /** I/O port of the power device: sleep control/status and reset register. */
    public static final int POWER_PORT = 0x3c0;
    /** The value the guest writes to {@link #POWER_PORT} to reset. */
    public static final int RESET_VALUE = 1;
    /** SLP_TYP for S5, as \_S5 says; the guest writes (SLP_TYP << 2) | SLP_EN. */
    public static final int S5_SLEEP_TYPE = 5;

    /** A virtio-mmio device to describe in the DSDT. */
    public record MmioDevice(long base, long size, int gsi) {}

    /** Machine facts the tables describe. */
    public record Config(int cpus, long ioapicAddress, long lapicAddress, List<MmioDevice> virtioDevices) {}

    private AcpiTables() {}

    /** Builds all tables for the guest region starting at {@code base}; returns each by signature. */
    public static Map<String, byte[]> build(Config cfg, long base) {
        byte[] dsdt = dsdt(cfg);
        byte[] madt = madt(cfg);
        long xsdtAddr = base + 64;
        long fadtAddr = align(xsdtAddr + 36 + 8 * 2);
        byte[] fadtPlaceholder = new byte[276];
        long madtAddr = align(fadtAddr + fadtPlaceholder.length);
        long dsdtAddr = align(madtAddr + madt.length);
        byte[] fadt = fadt(dsdtAddr);
        byte[] xsdt = xsdt(List.of(fadtAddr, madtAddr));
        byte[] rsdp = rsdp(xsdtAddr);
        Map<String, byte[]> out = new LinkedHashMap<>();
        out.put("RSDP@" + base, rsdp);
        out.put("XSDT@" + xsdtAddr, xsdt);
        out.put("FACP@" + fadtAddr, fadt);
        out.put("APIC@" + madtAddr, madt);
        out.put("DSDT@" + dsdtAddr, dsdt);
        return out;
    }

    /** Writes the tables into guest memory at {@code base} (below {@code limit}); returns the RSDP address. */
    public static long write(GuestMemory mem, Config cfg, long base, long limit) {
        for (Map.Entry<String, byte[]> e : build(cfg, base).entrySet()) {
            long at = Long.parseLong(e.getKey().substring(5));
            if (at + e.getValue().length > limit) {
                throw new IllegalStateException("ACPI tables do not fit below 0x" + Long.toHexString(limit));
            }
            mem.write(at, e.getValue());
        }
        return base;
    }

    private static long align(long a) {
        return (a + 15) & ~15L;
    }

    static byte checksum(byte[] b, int from, int to) {
        int sum = 0;
        for (int i = from; i < to; i++) {
            sum += b[i];
        }
        return (byte) -sum;
    }

    private static ByteBuffer header(String signature, int length, int revision) {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, signature.getBytes(StandardCharsets.US_ASCII));
        b.putInt(4, length);
        b.put(8, (byte) revision);
        b.put(10, OEM_ID.getBytes(StandardCharsets.US_ASCII));
        b.put(16, OEM_TABLE_ID.getBytes(StandardCharsets.US_ASCII));
        b.putInt(24, 1);
        b.put(28, "JVMM".getBytes(StandardCharsets.US_ASCII));
        b.putInt(32, 1);
        return b;
    }

    private static byte[] finish(ByteBuffer b) {
        byte[] a = b.array();
        a[9] = 0;
        a[9] = checksum(a, 0, a.length);
        return a;
    }

    static byte[] rsdp(long xsdtAddress) {
        ByteBuffer b = ByteBuffer.allocate(36).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, "RSD PTR ".getBytes(StandardCharsets.US_ASCII));
        b.put(9, OEM_ID.getBytes(StandardCharsets.US_ASCII));
        b.put(15, (byte) 2);
        b.putInt(20, 36);
        b.putLong(24, xsdtAddress);
        byte[] a = b.array();
        a[8] = checksum(a, 0, 20);
        a[32] = checksum(a, 0, 36);
        return a;
    }

    static byte[] xsdt(List<Long> tables) {
        ByteBuffer b = header("XSDT", 36 + 8 * tables.size(), 1);
        for (int i = 0; i < tables.size(); i++) {
            b.putLong(36 + 8 * i, tables.get(i));
        }
        return finish(b);
    }

    private static void gas(ByteBuffer b, int off, int port) {
        b.put(off, (byte) 1);      // system I/O space
        b.put(off + 1, (byte) 8);  // 8 bits wide
        b.put(off + 2, (byte) 0);
        b.put(off + 3, (byte) 1);  // byte access
        b.putLong(off + 4, port);
    }

    static byte[] fadt(long dsdtAddress) {
        ByteBuffer b = header("FACP", 276, 6);
        b.putInt(40, (int) dsdtAddress);
        // IAPC_BOOT_ARCH: an 8042 exists (so Linux probes it), no VGA, no CMOS RTC.
        b.putShort(109, (short) ((1 << 1) | (1 << 2) | (1 << 5)));
        // Flags: RESET_REG_SUP, HW_REDUCED_ACPI.
        b.putInt(112, (1 << 10) | (1 << 20));
        gas(b, 116, POWER_PORT);
        b.put(128, (byte) RESET_VALUE);
        b.put(131, (byte) 3); // FADT minor version: ACPI 6.3
        b.putLong(140, dsdtAddress);
        gas(b, 244, POWER_PORT); // sleep control
        gas(b, 256, POWER_PORT); // sleep status
        b.put(268, "JVMM".getBytes(StandardCharsets.US_ASCII));
        return finish(b);
    }

    static byte[] madt(Config cfg) {
        List<byte[]> entries = new ArrayList<>();
        for (int i = 0; i < cfg.cpus(); i++) {
            entries.add(new byte[] {0, 8, (byte) i, (byte) i, 1, 0, 0, 0}); // local APIC, enabled
        }
        ByteBuffer io = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        io.put(0, (byte) 1).put(1, (byte) 12).put(2, (byte) cfg.cpus()).putInt(4, (int) cfg.ioapicAddress()).putInt(8, 0);
        entries.add(io.array());
        // LINT1 of every processor is NMI, as the vCPUs' LAPICs are wired.
        entries.add(new byte[] {4, 6, (byte) 0xff, 0, 0, 1});
        int len = 44;
        for (byte[] e : entries) { // a loop, not a stream: this runs at every VM start
            len += e.length;
        }
        ByteBuffer b = header("APIC", len, 5);
        b.putInt(36, (int) cfg.lapicAddress());
        b.putInt(40, 1); // PCAT_COMPAT: the 8259 PICs exist (KVM's irqchip has them)
        int off = 44;
        for (byte[] e : entries) {
            b.put(off, e);
            off += e.length;
        }
        return finish(b);
    }

    /** V000, V001 ... VFFF (as String.format("V%03X") would, without its start-up cost). */
    static String virtioName(int n) {
        String hex = Integer.toHexString(n).toUpperCase(Locale.ROOT);
        return "V" + "000".substring(Math.min(3, hex.length())) + hex;
    }

    static byte[] dsdt(Config cfg) {
        List<byte[]> devices = new ArrayList<>();
        devices.add(Aml.device("COM1",
                Aml.name("_HID", Aml.integer(Aml.eisaId("PNP0501"))),
                Aml.name("_UID", Aml.integer(0)),
                Aml.name("_CRS", Aml.resourceTemplate(Aml.io(X86Layout.SERIAL_PORT, X86Layout.SERIAL_PORTS),
                        Aml.irqNoFlags(X86Layout.SERIAL_IRQ)))));
        devices.add(Aml.device("PS2K",
                Aml.name("_HID", Aml.integer(Aml.eisaId("PNP0303"))),
                Aml.name("_CRS", Aml.resourceTemplate(Aml.io(X86Layout.I8042_PORT, 1),
                        Aml.io(X86Layout.I8042_COMMAND_PORT, 1), Aml.irqNoFlags(X86Layout.KEYBOARD_IRQ)))));
        int n = 0;
        for (MmioDevice d : cfg.virtioDevices()) {
            devices.add(Aml.device(virtioName(n),
                    Aml.name("_HID", Aml.string("LNRO0005")),
                    Aml.name("_UID", Aml.integer(n)),
                    Aml.name("_CCA", Aml.integer(1)),
                    Aml.name("_CRS", Aml.resourceTemplate(Aml.memory32Fixed(d.base(), d.size()),
                            Aml.extendedInterrupt(d.gsi())))));
            n++;
        }
        byte[] body = Aml.concat(
                Aml.name("_S5_", Aml.pkg(Aml.integer(S5_SLEEP_TYPE), Aml.integer(0))),
                Aml.scope("\\_SB_", devices.toArray(new byte[0][])));
        ByteBuffer b = header("DSDT", 36 + body.length, 2);
        b.put(36, body);
        return finish(b);
    }
}
