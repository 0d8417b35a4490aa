package dev.jvmm.machine.arm64;

import dev.jvmm.boot.KernelLoadException;
import dev.jvmm.boot.arm64.Arm64Allocator;
import dev.jvmm.boot.arm64.Arm64Image;
import dev.jvmm.boot.arm64.Arm64Layout;
import dev.jvmm.machine.Architectures;
import dev.jvmm.machine.DeviceSpecs;
import dev.jvmm.machine.MachineConfig;
import dev.jvmm.machine.VirtioSetup;
import dev.jvmm.machine.arch.Arch;
import dev.jvmm.machine.arch.Architecture;
import dev.jvmm.machine.arch.Discovery;
import dev.jvmm.machine.arch.Payload;
import dev.jvmm.machine.arch.Placed;
import dev.jvmm.vmm.memory.GuestMemory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.util.zip.GZIPOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What the aarch64 board writes into guest memory for a config, without KVM: the config's
 * virtio devices placed by the allocator as the builder places them, and the device tree that
 * describes them read back by dtc from the bytes in guest RAM, beside the Image and the initrd
 * where the load plan put them.
 */
class Arm64BoardTest {
    @TempDir
    Path tmp;

    static final long MIB = 1L << 20;

    @BeforeAll
    static void tools() {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/dtc")), "dtc (apt-get install device-tree-compiler) is needed");
    }

    /** A 6.1-style Image header (text_offset 0, image_size 64 KiB, 4 KiB pages) over 8 KiB of body. */
    static byte[] image() {
        ByteBuffer b = ByteBuffer.allocate(8192).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x14000010).putLong(8, 0).putLong(16, 0x10000).putLong(24, 0b1010).putInt(0x38, Arm64Image.MAGIC);
        for (int i = 64; i < b.capacity(); i++) {
            b.put(i, (byte) (i * 7));
        }
        return b.array();
    }

    private String dts(byte[] dtb) throws IOException, InterruptedException {
        Path in = Files.write(tmp.resolve("guest.dtb"), dtb);
        Process p = new ProcessBuilder("dtc", "-I", "dtb", "-O", "dts", in.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    /** The blob at {@code address}: its header says how long it is. */
    private static byte[] dtbAt(GuestMemory memory, long address) {
        int size = ByteBuffer.wrap(memory.read(address, 8)).getInt(4); // totalsize, big-endian
        return memory.read(address, size);
    }

    @Test
    void theDeviceTreeInGuestRamDescribesTheConfigsDevicesWhereTheAllocatorPutThem() throws Exception {
        Path disk = Files.write(tmp.resolve("disk.img"), new byte[1 << 16]);
        Path data = Files.write(tmp.resolve("data.img"), new byte[1 << 16]);
        MachineConfig config = new MachineConfig(tmp.resolve("Image"), null, null, 64, 2, 0, false, false,
                new DeviceSpecs.Devices(List.of(DeviceSpecs.Drive.parse("path=" + disk),
                        DeviceSpecs.Drive.parse("path=" + data + ",ro")), List.of(), null, true), null, null, Arch.aarch64);
        assertEquals(Arm64Architecture.DEFAULT_CMDLINE, config.cmdline(), "no x86 words on an arm64 command line");
        Architecture arch = Architectures.of(config.arch());
        long ram = (long) config.memoryMib() << 20;
        GuestMemory memory = GuestMemory.heap(arch.ram(ram));
        byte[] initrd = "070701 an initramfs".getBytes(StandardCharsets.US_ASCII);
        Arm64Allocator allocator = new Arm64Allocator();
        List<Placed> placed;
        try (VirtioSetup virtio = VirtioSetup.open(config.devices(), System.err)) {
            placed = virtio.place(owner -> Arm64Board.placed(allocator.device(owner, Arm64Layout.DEVICE_WINDOW)));
        }
        assertEquals(List.of(new Placed("virtio-mmio device 0 (blk0)", 0x4000_3000L, 0x1000, 16),
                new Placed("virtio-mmio device 1 (blk1)", 0x4000_4000L, 0x1000, 17),
                new Placed("virtio-mmio device 2 (rng)", 0x4000_5000L, 0x1000, 18)), placed, "drives, then rng");

        Arm64Board.Loaded loaded = Arm64Board.load(memory, new Payload(image(), initrd, config.cmdline()), placed,
                new Architecture.Spec(config.cpus(), ram, config.devices().discovery()), 3);
        assertEquals("Image", loaded.format());
        assertArrayEquals(image(), memory.read(Arm64Layout.RAM_BASE, 8192), "the Image at the start of RAM (text_offset 0)");
        assertArrayEquals(initrd, memory.read(loaded.plan().initrdStart(), initrd.length));

        String dts = dts(dtbAt(memory, loaded.plan().dtbAddress()));
        assertTrue(dts.contains("bootargs = \"" + Arm64Architecture.DEFAULT_CMDLINE + " jvmm.platform=0x40000000\";"),
                "the platform page named for the guest's scripts: " + dts);
        assertTrue(dts.contains(String.format("linux,initrd-start = <0x00 0x%x>;", loaded.plan().initrdStart())), dts);
        assertTrue(dts.contains(String.format("linux,initrd-end = <0x00 0x%x>;", loaded.plan().initrdEnd())), dts);
        assertTrue(dts.contains("memory@80000000 {"), dts);
        assertTrue(dts.contains("reg = <0x00 0x80000000 0x00 0x4000000>;"), "64 MiB: " + dts);
        for (Placed p : placed) {
            String node = String.format("virtio@%x {", p.base());
            int at = dts.indexOf(node);
            assertTrue(at >= 0, node + " in " + dts);
            String body = dts.substring(at, dts.indexOf("};", at));
            assertTrue(body.contains(String.format("reg = <0x00 0x%x 0x00 0x1000>;", p.base())), body);
            assertTrue(body.contains(String.format("interrupts = <0x00 0x%02x 0x01>;", p.irq())), "an edge on the SPI: " + body);
        }
        assertEquals(3, dts.split("compatible = \"virtio,mmio\"", -1).length - 1, "one node per device, no more");
        assertTrue(dts.contains("serial@40002000 {") && dts.contains("rtc@40001000 {"), dts);
        assertTrue(dts.contains("compatible = \"arm,gic-v3\";"), dts);
        assertEquals(2, dts.split("enable-method = \"psci\"", -1).length - 1, "two vCPUs");
    }

    @Test
    void aCommandLineTheKernelWouldCutIsRefusedInOneLineBeforeAnythingIsWritten() {
        GuestMemory memory = GuestMemory.heap(Architectures.of(Arch.aarch64).ram(64 * MIB));
        KernelLoadException e = assertThrows(KernelLoadException.class, () -> Arm64Board.load(memory,
                new Payload(image(), null, "x".repeat(3000)), List.of(), new Architecture.Spec(1, 64 * MIB, Discovery.auto), 3));
        assertTrue(e.getMessage().contains("at most 2047"), e.getMessage());
        assertArrayEquals(new byte[64], memory.read(Arm64Layout.RAM_BASE, 64), "nothing loaded");
    }

    @Test
    void theArchitectureIsTakenFromTheKernelsFormat() throws IOException {
        byte[] arm64 = image();
        assertEquals(Arch.aarch64, Architectures.ofKernel(arm64, Arch.x86_64));
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write(arm64);
        }
        assertEquals(Arch.aarch64, Architectures.ofKernel(gz.toByteArray(), Arch.x86_64), "Image.gz");
        assertEquals(Arch.x86_64, Architectures.ofKernel(new byte[] {0x1f, (byte) 0x8b, 8, 0}, Arch.x86_64),
                "a gzip stream that is not one is no arm64 kernel");
        byte[] bz = new byte[0x300];
        bz[0x202] = 'H';
        bz[0x203] = 'd';
        bz[0x204] = 'r';
        bz[0x205] = 'S';
        assertEquals(Arch.x86_64, Architectures.ofKernel(bz, Arch.aarch64), "a bzImage");
        byte[] elf = new byte[64];
        elf[0] = 0x7f;
        elf[1] = 'E';
        elf[2] = 'L';
        elf[3] = 'F';
        elf[18] = 62;
        assertEquals(Arch.x86_64, Architectures.ofKernel(elf, Arch.aarch64), "an x86-64 vmlinux");
        elf[18] = (byte) 183;
        assertEquals(Arch.aarch64, Architectures.ofKernel(elf, Arch.aarch64), "an arm64 vmlinux is no one's: the fallback");
        assertEquals(Arch.x86_64, Architectures.ofKernel(new byte[16], Arch.x86_64), "junk: the fallback");
    }

    @Test
    void aMachineConfigRefusesWhatAnArm64GuestCannotHave() {
        Path k = Path.of("/Image");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MachineConfig(k, null, null, 64, 1,
                0, false, false, new DeviceSpecs.Devices(List.of(), List.of(), null, true, Discovery.acpi), null, null,
                Arch.aarch64));
        assertTrue(e.getMessage().contains("device tree"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MachineConfig(k, null, null, 33, 1, 0, false, false, null,
                null, null, Arch.aarch64));
        assertTrue(e.getMessage().contains("2 MiB"), e.getMessage());
        assertEquals(80, Architectures.of(Arch.aarch64).maxVirtioDevices(), "SPIs 16-95");
        assertNull(Architectures.of(Arch.aarch64).refuses(Discovery.auto));
        assertFalse(new MachineConfig(k, null, null, 64, 1, 0, false, false, null, null, null, Arch.aarch64).cmdline()
                .contains("i8042"));
    }
}
