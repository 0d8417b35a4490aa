package dev.jvmm.machine;

import dev.jvmm.machine.arch.Discovery;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeviceSpecsTest {
    @TempDir
    Path dir;

    @Test
    void driveSpecsParseAndPrintBack() {
        DeviceSpecs.Drive d = DeviceSpecs.Drive.parse("path=/x/disk.img,ro,id=root,serial=SER1");
        assertEquals(Path.of("/x/disk.img"), d.path());
        assertEquals(Boolean.TRUE, d.readOnly());
        assertEquals("root", d.id());
        assertEquals("SER1", d.serial());
        assertEquals(d, DeviceSpecs.Drive.parse(d.spec()));
        assertNull(DeviceSpecs.Drive.parse("path=a").readOnly());
        assertTrue(DeviceSpecs.Drive.parse("path=a").readOnlyFor(true), "compressed images default to read-only");
        assertEquals(false, DeviceSpecs.Drive.parse("path=a,rw").readOnlyFor(true));
    }

    @Test
    void badDeviceSpecsSayWhatIsWrong() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DeviceSpecs.Drive.parse("file=a")).getMessage().contains("'file=a'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DeviceSpecs.Drive.parse("ro")).getMessage().contains("path=FILE"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DeviceSpecs.Drive.parse("path=a,ro,rw")).getMessage().contains("both"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DeviceSpecs.Drive.parse("path=a,path=b")).getMessage().contains("twice"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DeviceSpecs.Drive.parse("path=a,serial=123456789012345678901"))
                .getMessage().contains("20"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DeviceSpecs.Net.parse("tap=")).getMessage().contains("tap=NAME"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DeviceSpecs.Net.parse("tap=t0,mac=01:00:00:00:00:01"))
                .getMessage().contains("multicast"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DeviceSpecs.Net.parse("tap=t0,mac=zz")).getMessage().contains("six hex"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DeviceSpecs.Vsock.parse("cid=2,uds=/s")).getMessage().contains("at least 3"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DeviceSpecs.Vsock.parse("cid=3")).getMessage().contains("uds=PATH"));
    }

    @Test
    void netAndVsockSpecs() {
        DeviceSpecs.Net n = DeviceSpecs.Net.parse("tap=tap0,mac=06:00:4A:56:4D:01");
        assertArrayEquals(new byte[] {6, 0, 0x4a, 0x56, 0x4d, 1}, n.mac());
        assertEquals("tap=tap0,mac=06:00:4a:56:4d:01", n.spec());
        DeviceSpecs.Vsock v = DeviceSpecs.Vsock.parse("cid=42,uds=/run/v.sock");
        assertEquals(42, v.cid());
        assertEquals(v, DeviceSpecs.Vsock.parse(v.spec()));
    }

    @Test
    void machineFileCarriesTheDevices() throws Exception {
        var devices = new DeviceSpecs.Devices(List.of(DeviceSpecs.Drive.parse("path=/dev/jvmmd0,ro,serial=s")),
                List.of(DeviceSpecs.Net.parse("tap=t0")), DeviceSpecs.Vsock.parse("cid=3,uds=/tmp/v"), false,
                Discovery.acpi);
        MachineConfig c = new MachineConfig(Path.of("/k"), null, "console=ttyS0", 256, 1, 0, false, false, devices,
                Path.of("/tmp/m.json"));
        MachineConfig back = MachineConfigFile.read(new StringReader(MachineConfigFile.write(c)));
        assertEquals(devices.drives(), back.devices().drives());
        assertEquals("tap=t0", back.devices().nets().get(0).spec());
        assertEquals(devices.vsock(), back.devices().vsock());
        assertEquals(false, back.devices().rng());
        assertEquals(Discovery.acpi, back.devices().discovery());
        assertEquals(Path.of("/tmp/m.json"), back.metricsFile());
    }

    @Test
    void lz4DrivesAreDecompressedOnceIntoTheCacheAndReadOnly() throws Exception {
        String before = System.getProperty("jvmm.cache");
        System.setProperty("jvmm.cache", dir.resolve("cache").toString());
        try {
            lz4Drives();
        } finally {
            if (before == null) {
                System.clearProperty("jvmm.cache");
            } else {
                System.setProperty("jvmm.cache", before);
            }
        }
    }

    private void lz4Drives() throws Exception {
        Path plain = dir.resolve("disk.img");
        byte[] content = new byte[1 << 20];
        new java.util.Random(3).nextBytes(content);
        Files.write(plain, content);
        Path lz4 = dir.resolve("disk.img.lz4");
        dev.jvmm.images.disk.Lz4.compress(plain, lz4);
        DeviceSpecs.Drive d = Drives.resolve(DeviceSpecs.Drive.parse("path=" + lz4), System.err);
        assertEquals(Boolean.TRUE, d.readOnly());
        assertArrayEquals(content, Files.readAllBytes(d.path()));
        long made = Files.getLastModifiedTime(d.path()).toMillis();
        DeviceSpecs.Drive again = Drives.resolve(DeviceSpecs.Drive.parse("path=" + lz4), System.err);
        assertEquals(d.path(), again.path());
        assertEquals(made, Files.getLastModifiedTime(again.path()).toMillis(), "decompressed once");
        DeviceSpecs.Drive rw = Drives.resolve(DeviceSpecs.Drive.parse("path=" + lz4 + ",rw"), System.err);
        assertEquals(Boolean.FALSE, rw.readOnly());
        assertTrue(!rw.path().equals(d.path()), "rw gets a scratch copy, not the cache file");
        // A corrupt frame is an error naming the file, and leaves nothing in the cache.
        byte[] bad = Files.readAllBytes(lz4);
        bad[bad.length / 2] ^= 0x55;
        Path broken = dir.resolve("broken.img.lz4");
        Files.write(broken, bad);
        DeviceSetupException e = assertThrows(DeviceSetupException.class,
                () -> Drives.resolve(DeviceSpecs.Drive.parse("path=" + broken), System.err));
        assertTrue(e.getMessage().contains("broken.img.lz4"), e.getMessage());
        assertTrue(assertThrows(DeviceSetupException.class, () -> Drives.resolve(DeviceSpecs.Drive.parse("path=/nope"), System.err))
                .getMessage().contains("no such file"));
    }
}
