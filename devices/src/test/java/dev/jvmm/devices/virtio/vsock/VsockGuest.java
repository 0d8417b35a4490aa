package dev.jvmm.devices.virtio.vsock;

import dev.jvmm.devices.virtio.TestBench;
import dev.jvmm.devices.virtio.VirtqueueDriver;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The guest's side of a vsock device for hostile tests: sends packets on tx, posts rx buffers
 * and reads what the device put in them, without waiting unless asked.
 */
final class VsockGuest {
    static final long CID = 3;

    record Packet(VsockPacket header, byte[] payload) {}

    final TestBench bench;
    VirtqueueDriver rx;
    VirtqueueDriver tx;
    private int rxPosted;
    private int rxDone;

    VsockGuest(VsockDevice device) {
        bench = new TestBench(device).start();
        rx = bench.queue(0);
        tx = bench.queue(1);
    }

    /** Resets the device (status 0) and sets it up again on fresh rings, as a driver does after NEEDS_RESET. */
    void restart() {
        VirtqueueDriver.reg(bench.transport, 0x070, 0);
        bench.queues.set(0, new VirtqueueDriver(bench.memory, 0x280000, 256, 0x290000, 0x60000));
        bench.queues.set(1, new VirtqueueDriver(bench.memory, 0x2f0000, 256, 0x300000, 0x80000));
        bench.start();
        rx = bench.queue(0);
        tx = bench.queue(1);
        rxPosted = 0;
        rxDone = 0;
    }

    /** Posts rx chains of a header and {@code bytes} of payload room, up to a full ring, and notifies. */
    void postRx(int n, int bytes) {
        for (int i = 0; i < n && rxPosted - rxDone < rx.size() / 2; i++) {
            rx.add(rx.writable(VsockPacket.HEADER_SIZE), rx.writable(bytes));
            rxPosted++;
        }
        bench.kick(0);
    }

    /** The next packet the device returned in rx, or null if none yet. */
    Packet pollRx() {
        VirtqueueDriver.Used u = rx.nextUsed();
        if (u == null) {
            return null;
        }
        rxDone++;
        long hdrAddr = bench.memory.read64(rx.descTable() + 16L * u.id());
        long dataAddr = bench.memory.read64(rx.descTable() + 16L * ((u.id() + 1) % rx.size()));
        VsockPacket h = VsockPacket.decode(bench.memory.read(hdrAddr, VsockPacket.HEADER_SIZE));
        assertEquals(VsockPacket.HEADER_SIZE + h.len(), u.len());
        return new Packet(h, bench.memory.read(dataAddr, h.len()));
    }

    /** The next rx packet, refilling rx as it goes; waits up to 5 s for host-side threads. */
    Packet nextRx() throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            Packet p = pollRx();
            if (p != null) {
                postRx(1, 4096);
                return p;
            }
            Thread.sleep(2);
        }
        throw new AssertionError("no packet for the guest within 5 s");
    }

    static VsockPacket header(int srcPort, int dstPort, int op, int flags, int bufAlloc, int fwdCnt, int len) {
        return new VsockPacket(CID, 2, srcPort, dstPort, len, VsockPacket.TYPE_STREAM, op, flags, bufAlloc, fwdCnt);
    }

    void sendTx(int srcPort, int dstPort, int op, int flags, int bufAlloc, int fwdCnt, byte[] payload) {
        VsockPacket p = header(srcPort, dstPort, op, flags, bufAlloc, fwdCnt, payload.length);
        if (payload.length == 0) {
            tx.add(tx.readable(p.encode()));
        } else {
            tx.add(tx.readable(p.encode()), tx.readable(payload));
        }
        bench.kick(1);
    }

    /** One line from a host socket, without its newline; null at EOF. */
    static String readLine(SocketChannel ch) throws IOException {
        StringBuilder b = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (true) {
            one.clear();
            if (ch.read(one) < 0) {
                return b.length() == 0 ? null : b.toString();
            }
            char c = (char) one.get(0);
            if (c == '\n') {
                return b.toString();
            }
            b.append(c);
        }
    }

    /** Up to {@code n} bytes from a host socket, fewer at EOF. */
    static byte[] readN(SocketChannel ch, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining() && ch.read(b) >= 0) {
            // keep reading
        }
        return Arrays.copyOf(b.array(), b.position());
    }
}
