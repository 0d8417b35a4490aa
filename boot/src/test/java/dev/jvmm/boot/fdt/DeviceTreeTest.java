package dev.jvmm.boot.fdt;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The writer's blobs read back by dtc and fdtget: decompiled to the expected source, recompiled by
 * dtc to the same bytes, free of dtc warnings with every check on; and bad trees refused.
 */
class DeviceTreeTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void tools() {
        Dtc.assumeInstalled();
    }

    /** A tree with every kind of value: cells, u64, strings, string lists, bytes, flags, phandles, reservations. */
    static DeviceTree sample() {
        DeviceTree t = new DeviceTree();
        FdtNode root = t.root();
        root.u32("#address-cells", 2).u32("#size-cells", 2).string("compatible", "jvmm,test")
                .string("model", "sample");
        FdtNode intc = root.node("interrupt-controller", 0x3fff0000L);
        intc.string("compatible", "arm,gic-v3").u32("#interrupt-cells", 3).u32("#address-cells", 0)
                .empty("interrupt-controller")
                .cells("reg", 0, 0x3fff0000L, 0, 0x10000);
        int gic = intc.phandle();
        root.u32("interrupt-parent", gic);
        FdtNode mem = root.node("memory", 0x80000000L);
        mem.string("device_type", "memory").cells("reg", 0, 0x80000000L, 0, 0x10000000);
        FdtNode chosen = root.node("chosen");
        chosen.string("bootargs", "console=ttyS0 panic=1").u64("linux,initrd-start", 0x8fe00000L)
                .u64("linux,initrd-end", 0x8ff00000L);
        FdtNode dev = root.node("widget", 0x40003000L);
        dev.strings("compatible", "jvmm,widget", "simple-widget").cells("reg", 0, 0x40003000L, 0, 0x1000)
                .cells("interrupts", 0, 5, 1).bytes("mac-address", new byte[] {6, 0, 0x4a, 0x56, 0x4d, 1})
                .string("status", "okay");
        t.reserve(0x8fe00000L, 0x100000).reserve(0x90000000L, 0x1000);
        return t;
    }

    static String resource(String name) throws IOException {
        try (InputStream in = DeviceTreeTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void dtcDecompilesTheSampleToTheExpectedSourceWithNoWarnings() throws Exception {
        byte[] dtb = sample().toDtb();
        Dtc.Result r = Dtc.decompile(tmp, dtb);
        assertEquals(0, r.status(), r.err());
        assertEquals("", r.err(), "dtc warnings");
        assertEquals(resource("sample.dts"), r.out());
    }

    @Test
    void dtcCompilesTheExpectedSourceToTheSameBytes() throws Exception {
        assertArrayEquals(Dtc.compile(tmp, resource("sample.dts")), sample().toDtb());
    }

    @Test
    void fdtgetReadsEachKindOfValue() throws Exception {
        byte[] dtb = sample().toDtb();
        assertEquals("console=ttyS0 panic=1", Dtc.fdtget(tmp, dtb, "s", "/chosen", "bootargs"));
        assertEquals("0 8fe00000", Dtc.fdtget(tmp, dtb, "x", "/chosen", "linux,initrd-start"));
        assertEquals("jvmm,widget simple-widget", Dtc.fdtget(tmp, dtb, "s", "/widget@40003000", "compatible"));
        assertEquals("6 0 4a 56 4d 1", Dtc.fdtget(tmp, dtb, "bx", "/widget@40003000", "mac-address"));
        assertEquals("1", Dtc.fdtget(tmp, dtb, "u", "/interrupt-controller@3fff0000", "phandle"));
        assertEquals("1", Dtc.fdtget(tmp, dtb, "u", "/", "interrupt-parent"));
    }

    @Test
    void libfdtPassesTheSampleAndCatchesACorruptedCopy() throws Exception {
        Libfdt.assumeInstalled();
        byte[] dtb = sample().toDtb();
        assertEquals("check ok", Libfdt.check(tmp, dtb));
        byte[] badString = dtb.clone();
        ByteBuffer.wrap(badString).putInt(32, 3); // size_dt_strings cut: property names run off the block
        assertTrue(Libfdt.check(tmp, badString).startsWith("check FDT_ERR_"), Libfdt.check(tmp, badString));
        byte[] badEnd = dtb.clone();
        int stringsOff = ByteBuffer.wrap(dtb).getInt(12);
        ByteBuffer.wrap(badEnd).putInt(stringsOff - 4, DeviceTree.FDT_END_NODE); // no FDT_END
        assertTrue(Libfdt.check(tmp, badEnd).startsWith("check FDT_ERR_"), Libfdt.check(tmp, badEnd));
    }

    @Test
    void headerFieldsAndBlockAlignment() {
        byte[] dtb = sample().toDtb();
        ByteBuffer b = ByteBuffer.wrap(dtb);
        assertEquals(DeviceTree.MAGIC, b.getInt(0));
        assertEquals(dtb.length, b.getInt(4), "totalsize");
        int structOff = b.getInt(8);
        int stringsOff = b.getInt(12);
        int rsvOff = b.getInt(16);
        assertEquals(17, b.getInt(20));
        assertEquals(16, b.getInt(24));
        assertEquals(0, b.getInt(28), "boot_cpuid_phys");
        assertEquals(0, rsvOff % 8, "reservation map 8-byte aligned");
        assertEquals(0, structOff % 4, "structure block 4-byte aligned");
        assertEquals(rsvOff + 3 * 16, structOff, "two reservations and the terminator");
        assertEquals(0x8fe00000L, b.getLong(rsvOff));
        assertEquals(0, b.getLong(rsvOff + 32) | b.getLong(rsvOff + 40), "terminator");
        assertEquals(stringsOff + b.getInt(32), dtb.length, "size_dt_strings ends the blob");
        assertEquals(structOff + b.getInt(36), stringsOff, "size_dt_struct");
        assertEquals(DeviceTree.FDT_END, b.getInt(stringsOff - 4), "the structure block ends with FDT_END");
        assertEquals(7, ByteBuffer.wrap(new DeviceTree().bootCpu(7).toDtb()).getInt(28));
    }

    @Test
    void eachPropertyNameIsStoredOnceAndTailsAreShared() {
        DeviceTree t = new DeviceTree();
        t.root().u32("#size-cells", 1).string("compatible", "a");
        t.root().node("a").string("compatible", "b").u32("size-cells", 2);
        byte[] dtb = t.toDtb();
        ByteBuffer b = ByteBuffer.wrap(dtb);
        String strings = new String(dtb, b.getInt(12), b.getInt(32), StandardCharsets.US_ASCII);
        assertEquals("#size-cells\0compatible\0", strings, "size-cells is the tail of #size-cells");
    }

    static void refused(String fragment, Consumer<DeviceTree> build) {
        DeviceTree t = new DeviceTree(4096);
        FdtException e = assertThrows(FdtException.class, () -> {
            build.accept(t);
            t.toDtb();
        });
        assertTrue(e.getMessage().contains(fragment), "'" + e.getMessage() + "' should mention '" + fragment + "'");
        assertFalse(e.getMessage().contains("\n"), "one line");
    }

    @Test
    void badNamesAreRefused() {
        refused("illegal character 0x20", t -> t.root().node("my node"));
        refused("illegal character 0x2f", t -> t.root().node("a/b"));
        refused("illegal character 0x23", t -> t.root().node("c#pus"));
        refused("must start with a letter", t -> t.root().node("0cpu"));
        refused("1 to 31 characters before any '@'", t -> t.root().node("@40000000"));
        refused("1 to 31 characters", t -> t.root().node("a".repeat(32)));
        refused("empty unit address", t -> t.root().node("uart@"));
        refused("unit address of node 'uart@4:0'", t -> t.root().node("uart@4:0"));
        refused("property name '' in /", t -> t.root().u32("", 1));
        refused("1 to 31 characters", t -> t.root().u32("p".repeat(32), 1));
        refused("illegal character 0x3d", t -> t.root().u32("a=b", 1));
        refused("illegal character 0xe9", t -> t.root().node("caf\u00e9"));
        refused("illegal character 0x0", t -> t.root().u32("nul\0", 1));
    }

    @Test
    void duplicatesAreRefusedNamingThePath() {
        refused("duplicate node cpu@0 in /cpus", t -> {
            FdtNode cpus = t.root().node("cpus");
            cpus.node("cpu", 0);
            cpus.node("cpu@0");
        });
        refused("duplicate property reg in /memory", t -> t.root().node("memory").u32("reg", 1).u32("reg", 2));
        refused("phandle of /a is assigned by phandle()", t -> t.root().node("a").u32("phandle", 5));
    }

    @Test
    void badValuesAreRefused() {
        refused("0x100000000 of reg in / does not fit in 32 bits", t -> t.root().cells("reg", 1L << 32));
        refused("0xffffffffffffffff of reg", t -> t.root().cells("reg", -1));
        refused("character 0x0 at 3", t -> t.root().string("bootargs", "abc\0def"));
        refused("character 0xa at 1", t -> t.root().string("bootargs", "a\nb"));
        refused("character 0xfc at 2", t -> t.root().strings("compatible", "ok", "gr\u00fcn"));
        refused("string list compatible in / is empty", t -> t.root().strings("compatible"));
        refused("memory reservation 0x1000+0x0 is empty", t -> t.reserve(0x1000, 0));
        refused("wraps", t -> t.reserve(-4096, 0x2000));
        refused("wraps", t -> t.reserve(Long.MAX_VALUE - 10, 0x2000));
    }

    @Test
    void treesPastTheLimitAreRefusedAsTheyGrow() {
        refused("would exceed 4096 bytes (adding to /)", t -> t.root().bytes("blob", new byte[5000]));
        refused("would exceed 4096 bytes (adding to /chosen)", t -> {
            FdtNode chosen = t.root().node("chosen");
            for (int i = 0; i < 1000; i++) {
                chosen.u32("p" + i, i);
            }
        });
        refused("would exceed 4096 bytes (adding to the memory reservation map)", t -> {
            for (int i = 0; i < 300; i++) {
                t.reserve(i * 4096L, 4096);
            }
        });
        assertThrows(FdtException.class, () -> new DeviceTree(DeviceTree.MAX_DTB_BYTES + 1));
        // the default limit is booting.rst's 2 MiB: a 2 MiB property cannot fit, one of 2 MiB - 1 KiB can
        assertThrows(FdtException.class, () -> new DeviceTree().root().bytes("big", new byte[2 << 20]));
        DeviceTree fits = new DeviceTree();
        fits.root().bytes("big", new byte[(2 << 20) - 1024]);
        assertTrue(fits.toDtb().length <= DeviceTree.MAX_DTB_BYTES);
    }

    @Test
    void findWalksPaths() {
        DeviceTree t = sample();
        assertEquals("/widget@40003000", t.find("/widget@40003000").path());
        assertEquals(t.root(), t.find("/"));
        assertEquals(null, t.find("/nope"));
        assertEquals(List.of("bootargs", "linux,initrd-start", "linux,initrd-end"), t.find("/chosen").propertyNames());
    }
}
