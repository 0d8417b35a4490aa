package dev.jvmm.lab;

import dev.jvmm.boot.arm64.Arm64Image;
import dev.jvmm.machine.MachineConfig;
import dev.jvmm.machine.arch.Arch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LabArchTest {
    @TempDir
    Path tmp;

    private static byte[] arm64Header() {
        ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x14000010); // b +0x40, as a real Image's first instruction
        b.putLong(16, 0x10000); // image_size
        b.putInt(Arm64Image.MAGIC_OFFSET, Arm64Image.MAGIC);
        return b.array();
    }

    private Path file(String name, byte[] content) throws Exception {
        Path p = tmp.resolve(name);
        Files.write(p, content);
        return p;
    }

    @Test
    void anArm64KernelInAnyOfItsFormsNeedsTheArm64Lab() throws Exception {
        assertEquals(LabArch.AARCH64, LabArch.forKernel(file("Image", arm64Header())));
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write(arm64Header());
        }
        assertEquals(LabArch.AARCH64, LabArch.forKernel(file("Image.gz", gz.toByteArray())));
        byte[] zboot = new byte[4096];
        zboot[0] = 'M';
        zboot[1] = 'Z';
        System.arraycopy("zimg".getBytes(StandardCharsets.US_ASCII), 0, zboot, 4, 4);
        assertEquals(LabArch.AARCH64, LabArch.forKernel(file("vmlinuz.efi", zboot)));
        byte[] elf = ElfFileTest.elf(ElfFile.EM_AARCH64, null, 0, "x");
        assertEquals(LabArch.AARCH64, LabArch.forKernel(file("vmlinux-arm64", elf)));
    }

    @Test
    void everythingElseIsLeftToTheX86Lab() throws Exception {
        byte[] bz = new byte[4096];
        System.arraycopy("HdrS".getBytes(StandardCharsets.US_ASCII), 0, bz, 0x202, 4);
        assertEquals(LabArch.X86_64, LabArch.forKernel(file("bzImage", bz)));
        assertEquals(LabArch.X86_64, LabArch.forKernel(file("vmlinux", ElfFileTest.elf(ElfFile.EM_X86_64, null, 0, "x"))));
        assertEquals(LabArch.X86_64, LabArch.forKernel(file("short", new byte[] {1, 2, 3})));
        assertEquals(LabArch.X86_64, LabArch.forKernel(file("empty", new byte[0])));
        assertEquals(LabArch.X86_64, LabArch.forKernel(file("bad.gz", new byte[] {0x1f, (byte) 0x8b, 9, 9, 9})));
        // A gzip'd file that is no arm64 Image (a gzip'd bzImage header, say).
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write(bz);
        }
        assertEquals(LabArch.X86_64, LabArch.forKernel(file("bz.gz", gz.toByteArray())));
    }

    @Test
    void aBootPicksTheLabOfItsGuestsArchitecture() throws Exception {
        Path image = file("Image", arm64Header());
        MachineConfig arm = new MachineConfig(image, null, null, 256, 1, 0, false, false, null, null, null, Arch.aarch64);
        assertEquals(LabArch.AARCH64, LabArch.forMachine(arm));
        MachineConfig x86 = new MachineConfig(file("bzImage", new byte[4096]), null, null, 256, 1, 0, false, false, null,
                null, null, Arch.x86_64);
        assertEquals(LabArch.X86_64, LabArch.forMachine(x86));
    }

    @Test
    void namesAsTheCommandLineGivesThem() {
        assertEquals(LabArch.AARCH64, LabArch.named("aarch64"));
        assertEquals(LabArch.AARCH64, LabArch.named("ARM64"));
        assertEquals(LabArch.X86_64, LabArch.named("amd64"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LabArch.named("riscv64"));
        assertTrue(e.getMessage().contains("x86_64 or aarch64"), e.getMessage());
    }

    @Test
    void theX86LabKeepsItsQemuAndModules() {
        assertEquals(List.of("qemu-system-x86_64", "-M", "q35", "-accel", "tcg,tb-size=128", "-cpu", "max"), LabArch.X86_64.qemuMachine());
        assertEquals(List.of("irqbypass", "kvm", "kvm-amd", "kvm-intel", "virtio_ring", "virtio", "virtio_pci_modern_dev",
                "virtio_pci_legacy_dev", "virtio_pci", "virtio_blk", "tun"), Lab.L1_MODULES);
        assertEquals(List.of("-chardev", "file,id=heartbeat,path=/h", "-serial", "chardev:heartbeat"),
                LabArch.X86_64.heartbeatArguments(Path.of("/h")));
        assertEquals("ttyS0", LabArch.X86_64.console());
    }

    @Test
    void theArm64LabIsVirtWithEl2AndAVirtioConsoleHeartbeat() {
        List<String> q = LabArch.AARCH64.qemuMachine();
        assertEquals("qemu-system-aarch64", q.get(0));
        assertTrue(q.contains("virt,virtualization=on,gic-version=3"), q.toString());
        assertEquals("ttyAMA0", LabArch.AARCH64.console());
        assertTrue(LabArch.AARCH64.heartbeatArguments(Path.of("/h")).contains("virtconsole,chardev=heartbeat"));
        // Debian's arm64 kernel has KVM built in; virtio-pci, virtio-blk, the console and TUN are modules.
        assertFalse(LabArch.AARCH64.modules().contains("kvm"));
        assertTrue(LabArch.AARCH64.modules().containsAll(List.of("virtio_pci", "virtio_blk", "virtio_console", "tun")));
        assertTrue(LabArch.AARCH64.modules().indexOf("virtio_pci_modern_dev") < LabArch.AARCH64.modules().indexOf("virtio_pci"));
    }

    @Test
    void initScriptsDifferOnlyWhereTheArchitecturesDo() throws Exception {
        String x86 = L1Init.script(LabArch.X86_64);
        String arm = L1Init.script(LabArch.AARCH64);
        assertTrue(x86.contains(LabWatchdog.INIT_LINE), x86);
        assertTrue(x86.contains("for m in irqbypass kvm kvm-amd"), x86);
        assertTrue(x86.contains("Xshare:dump"), "both labs dump a static archive: " + x86);
        assertTrue(arm.contains("printf . > /dev/hvc0"), arm);
        assertTrue(arm.contains("for m in virtio_pci_modern_dev"), arm);
        assertTrue(arm.contains("-Xshare:dump -XX:SharedClassListFile=/tmp/archived.lst -XX:SharedArchiveFile=/tmp/app.jsa"));
        // The dump comes before the archive goes onto the out disk.
        assertTrue(arm.indexOf("Xshare:dump") < arm.indexOf("dd if=/tmp/app.jsa"), arm);
        for (String script : List.of(x86, arm)) {
            Path f = file("init-" + script.hashCode() + ".sh", script.getBytes(StandardCharsets.UTF_8));
            Process p = new ProcessBuilder("sh", "-n", f.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.waitFor(), "sh -n: " + out);
            assertTrue(script.startsWith("#!/bin/busybox sh\n"), "no indentation left over from the text block");
        }
    }
}
