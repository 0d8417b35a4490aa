package dev.jvmm.devices.virtio.net;

import dev.jvmm.devices.virtio.TestBench;
import dev.jvmm.devices.virtio.VirtqueueDriver;
import dev.jvmm.vmm.sys.Tap;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.Map;

import static dev.jvmm.devices.virtio.net.NetRxFailureTest.await;
import static dev.jvmm.devices.virtio.net.NetRxFailureTest.needsReset;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The TAP backend on a real TAP (skipped where this user may not make one): the reader, asleep
 * in epoll, gets the host kernel's frames into the guest's buffers, and a TAP deleted under it
 * is one clear rx failure, after which the reader sleeps rather than spins.
 */
class TapBackendTest {
    static final byte[] MAC = {0x06, 0, 0x4a, 0x56, 0x4d, 4};

    private static int ip(String... args) throws IOException, InterruptedException {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "ip";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor();
    }

    /** Waits until the reader sleeps in epoll_wait (its top frame is the native call). */
    private static void awaitInEpoll(String thread) throws InterruptedException {
        await(() -> {
            for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
                if (e.getKey().getName().equals(thread) && e.getValue().length > 0
                        && e.getValue()[0].getMethodName().equals("epoll_wait")) {
                    return true;
                }
            }
            return false;
        }, thread + " sleeps in epoll_wait");
    }

    @Test
    void hostFramesReachTheGuestAndADeletedTapIsOneFailure() throws Exception {
        String name = "jvmmt" + (ProcessHandle.current().pid() % 100000);
        TapBackend backend;
        try {
            backend = TapBackend.open(name);
        } catch (Tap.TapException e) {
            assumeTrue(false, "no TAP here: " + e.getMessage());
            return;
        }
        NetDevice net = new NetDevice("net0", MAC, backend);
        try {
            TestBench b = new TestBench(net).start();
            VirtqueueDriver rx = b.queue(0);
            for (int i = 0; i < 8; i++) {
                rx.add(rx.writable(2048));
            }
            b.kick(0);
            assumeTrue(ip("addr", "add", "10.213.98.1/30", "dev", name) == 0 && ip("link", "set", name, "up") == 0,
                    "cannot configure " + name);
            awaitInEpoll("tap-" + name);
            // Nothing answers at .2: the host kernel's ARP request for it comes out of the TAP.
            try (DatagramSocket s = new DatagramSocket()) {
                s.send(new DatagramPacket(new byte[] {1}, 1, InetAddress.getByName("10.213.98.2"), 9));
            }
            await(() -> arpSeen(rx, b), "the host's ARP request reaches a guest rx buffer");
            assertTrue(net.metrics().get("rx_packets") >= 1);

            assertEquals(0, ip("link", "del", name));
            await(() -> needsReset(b) && b.log.stream().anyMatch(l -> l.contains("is gone")), "the device reports the TAP gone");
            VirtqueueDriver.reg(b.transport, 0x070, 0); // the driver resets; rx has nothing to read from
            awaitInEpoll("tap-" + name);
            assertEquals(1, net.metrics().get("rx_errors"), "one failure, not one per wake-up");
        } finally {
            net.close();
            ip("link", "del", name);
        }
    }

    private static boolean arpSeen(VirtqueueDriver rx, TestBench b) {
        VirtqueueDriver.Used u;
        while ((u = rx.nextUsed()) != null) {
            long addr = b.memory.read64(rx.descTable() + 16L * u.id());
            byte[] f = b.memory.read(addr, u.len());
            int ethertype = ((f[NetDevice.HEADER_SIZE + 12] & 0xff) << 8) | (f[NetDevice.HEADER_SIZE + 13] & 0xff);
            if (ethertype == 0x0806 && Arrays.equals(Arrays.copyOfRange(f, NetDevice.HEADER_SIZE + 38, NetDevice.HEADER_SIZE + 42),
                    new byte[] {10, (byte) 213, 98, 2})) {
                return true;
            }
        }
        return false;
    }
}
