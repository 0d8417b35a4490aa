package dev.jvmm.bootbench;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command lines the peers are started with, and the libraries packed for QEMU in L1. */
class PeerRunnerTest {
    static final PeerRunner RUNNER = new PeerRunner(PeerPaths.IN_LAB, null);

    static PeerRunner.Spec spec(int cpus) {
        return new PeerRunner.Spec(Path.of("/k/bzImage"), Path.of("/k/initrd"), "console=ttyS0 panic=1", 256, cpus, 60,
                false, null, null);
    }

    @Test
    void qemuGetsMicrovmCloseToJvmmWithTheTraceAndMonitor() {
        List<String> a = RUNNER.argv(PeerVmm.QEMU, spec(2), Path.of("/w/t.log"), Path.of("/w/m.sock"));
        String line = String.join(" ", a);
        assertEquals("/usr/bin/qemu-system-x86_64", a.get(0));
        assertTrue(line.contains("-L /peers/qemu-firmware -M " + PeerRunner.QEMU_MACHINE + " -accel " + PeerRunner.QEMU_ACCEL
                + " -cpu host -m 256 -smp 2"), line);
        assertTrue(line.contains("-nodefaults -no-user-config -nographic -no-reboot -serial stdio"), line);
        assertTrue(line.contains("-kernel /k/bzImage -append console=ttyS0 panic=1 -initrd /k/initrd"), line);
        assertTrue(line.contains("-msg timestamp=on -trace kvm_vcpu_ioctl -trace vm_state_notify -D /w/t.log"), line);
        assertTrue(line.endsWith("-monitor unix:/w/m.sock,server=on,wait=off"), line);
        assertEquals("console=ttyS0 panic=1", a.get(a.indexOf("-append") + 1), "the command line stays one argument");
    }

    @Test
    void floorGetsItsOptionsAndRefusesMoreThanOneVcpu() {
        List<String> a = RUNNER.argv(PeerVmm.FLOOR, spec(1), null, null);
        assertEquals(List.of("/peers/floorvmm", "-k", "/k/bzImage", "-c", "console=ttyS0 panic=1", "-m", "256",
                "-i", "/k/initrd"), a);
        PeerRunner.Spec huge = new PeerRunner.Spec(Path.of("/k"), null, "c", 64, 1, 60, true, null, null);
        assertEquals(List.of("/peers/floorvmm", "-k", "/k", "-c", "c", "-m", "64", "-H"),
                RUNNER.argv(PeerVmm.FLOOR, huge, null, null));
        assertThrows(IllegalArgumentException.class, () -> RUNNER.argv(PeerVmm.FLOOR, spec(2), null, null));
    }

    @Test
    void missingPeerFilesAreNamed() {
        PeerPaths nowhere = new PeerPaths(Path.of("/nonexistent/qemu"), Path.of("/nonexistent"), Path.of("/nonexistent/floor"));
        assertEquals("/nonexistent/floor is missing or not executable", nowhere.missing(PeerVmm.FLOOR));
        assertEquals("/nonexistent/qemu is missing or not executable", nowhere.missing(PeerVmm.QEMU));
    }

    @Test
    void lddOutputGivesEveryLibraryAndTheLoader() {
        String ldd = """
                \tlinux-vdso.so.1 (0x00007ffd3c5f2000)
                \tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x00007f84c2ef4000)
                \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f84c1bb8000)
                \t/lib64/ld-linux-x86-64.so.2 (0x00007f84c41d0000)
                """;
        assertEquals(List.of(Path.of("/lib/x86_64-linux-gnu/libc.so.6"), Path.of("/lib/x86_64-linux-gnu/libz.so.1"),
                Path.of("/lib64/ld-linux-x86-64.so.2")), PeerArchive.parseLdd(ldd));
    }

    @Test
    void peerNamesAreTheBootRunNames() {
        assertEquals(PeerVmm.QEMU, PeerVmm.of("qemu"));
        assertEquals("floor", PeerVmm.FLOOR.key);
        assertThrows(IllegalArgumentException.class, () -> PeerVmm.of("firecracker"));
    }
}
