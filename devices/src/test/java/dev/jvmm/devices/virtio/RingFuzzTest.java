package dev.jvmm.devices.virtio;

import dev.jvmm.devices.virtio.blk.BlockDevice;
import dev.jvmm.devices.virtio.blk.BlockFile;
import dev.jvmm.devices.virtio.blk.FencedRange;
import dev.jvmm.devices.virtio.rng.RngDevice;
import dev.jvmm.devices.virtio.vsock.VsockDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Thousands of random rings thrown at real devices through the transport: descriptor tables of
 * random addresses, lengths, flags and links (biased towards almost-valid ones, which reach
 * deeper), random avail rings and indices. Nothing may escape as an exception, hang, or grow the
 * backing file; every kick ends with the queue served or the device asking for a reset. A fenced
 * drive also gets well-formed writes, discards and zeroings planted among the random descriptors,
 * aimed at its fence edges and at sectors near 2^64, and its fenced sectors must never change.
 */
class RingFuzzTest {
    static final int ROUNDS = 3000;

    @TempDir
    Path dir;

    @Test
    void randomRingsAgainstBlockRngAndReadOnlyBlock() throws Exception {
        Path disk = dir.resolve("fuzz.img");
        Files.write(disk, new byte[64 * 1024]);
        Path roDisk = dir.resolve("ro.img");
        byte[] roContent = new byte[16 * 1024];
        new Random(1).nextBytes(roContent);
        Files.write(roDisk, roContent);
        BlockDevice blk = new BlockDevice("blk0", BlockFile.open(disk, false), "fuzz");
        BlockDevice ro = new BlockDevice("blk1", BlockFile.open(roDisk, true), "ro");
        RngDevice rng = new RngDevice(new SecureRandom());
        VsockDevice vsock = VsockDevice.open(3, dir.resolve("v.sock"));
        int[] sent = new int[1];
        dev.jvmm.devices.virtio.net.NetDevice net = new dev.jvmm.devices.virtio.net.NetDevice("net0", new byte[] {6, 0, 0, 0, 0, 1},
                new dev.jvmm.devices.virtio.net.NetBackend() {
                    public boolean offloadCapable() {
                        return true;
                    }

                    public void setGuestOffloads(int tunFlags) {}

                    public void send(java.nio.ByteBuffer frame) {
                        sent[0]++;
                    }

                    public void start(dev.jvmm.devices.virtio.net.NetDevice device) {}

                    public void close() {}
                });
        try {
            assertTimeoutPreemptively(Duration.ofMinutes(2), () -> {
                fuzz(blk, 11);
                fuzz(ro, 12);
                fuzz(rng, 13);
                fuzz(vsock, 14);
                fuzz(net, 15);
            });
            assertEquals(64 * 1024, Files.size(disk), "no write went past the disk's end");
            assertTrue(java.util.Arrays.equals(roContent, Files.readAllBytes(roDisk)), "read-only drive untouched");
            assertTrue(blk.metrics().get("queue_errors") > 0 && blk.metrics().get("requests") > 0,
                    "the fuzzer reached both bad chains and served requests: " + blk.metrics().snapshot());
        } finally {
            blk.close();
            ro.close();
            vsock.close();
        }
    }

    @Test
    void randomRingsAndAimedWritesAgainstAFencedBlock() throws Exception {
        Path disk = dir.resolve("fenced.img");
        byte[] content = new byte[64 * 1024]; // 128 sectors
        new Random(2).nextBytes(content);
        Files.write(disk, content);
        List<FencedRange> fences = List.of(new FencedRange("ROOT", 32, 63), new FencedRange("KERN", 100, 103),
                new FencedRange("HASH", 60, 71));
        long[] edges = {31, 32, 63, 64, 59, 60, 71, 72, 99, 100, 103, 104, 0, 127};
        BlockDevice blk = new BlockDevice("blk2", BlockFile.open(disk, false), "fenced", fences);
        try {
            assertTimeoutPreemptively(Duration.ofMinutes(2), () -> fuzz(blk, 16, (r, q) -> plantBlockRequests(r, q, edges)));
            byte[] after = Files.readAllBytes(disk);
            assertEquals(content.length, after.length, "no write went past the disk's end");
            for (FencedRange f : fences) {
                int from = (int) f.firstSector() * BlockDevice.SECTOR;
                int to = (int) (f.lastSector() + 1) * BlockDevice.SECTOR;
                assertTrue(Arrays.equals(content, from, to, after, from, to), f.name() + " changed");
            }
            assertTrue(blk.metrics().get("fenced_writes") > 0 && blk.metrics().get("write_bytes") > 0,
                    "the fuzzer hit the fence and wrote around it: " + blk.metrics().snapshot());
        } finally {
            blk.close();
        }
    }

    /** Puts requests among a queue's random descriptors, so a device can be aimed at. */
    @FunctionalInterface
    interface Planter {
        void plant(Random r, VirtqueueDriver q);
    }

    /**
     * One or two well-formed block requests, mostly write-like, at sectors near {@code edges} or
     * wrapping, first in the avail ring: after the round's reset the device starts from entry 0,
     * and the random entries after them usually end the round with a queue error.
     */
    private static void plantBlockRequests(Random r, VirtqueueDriver q, long[] edges) {
        int[] types = {BlockDevice.T_OUT, BlockDevice.T_OUT, BlockDevice.T_WRITE_ZEROES, BlockDevice.T_DISCARD, BlockDevice.T_IN};
        q.setAvailIndex(0);
        for (int i = 1 + r.nextInt(2); i > 0; i--) {
            int type = types[r.nextInt(types.length)];
            byte[] header = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(0, type)
                    .putLong(8, aimedSector(r, edges)).array();
            int bytes = r.nextInt(10) == 0 ? 1 + r.nextInt(4096) : BlockDevice.SECTOR * (1 + r.nextInt(8));
            VirtqueueDriver.Buf payload;
            if (type == BlockDevice.T_IN) {
                payload = q.writable(bytes);
            } else if (type == BlockDevice.T_OUT) {
                byte[] data = new byte[bytes];
                r.nextBytes(data);
                payload = q.readable(data);
            } else {
                ByteBuffer segs = ByteBuffer.allocate(16 * (1 + r.nextInt(3))).order(ByteOrder.LITTLE_ENDIAN);
                while (segs.hasRemaining()) {
                    segs.putLong(aimedSector(r, edges)).putInt(r.nextInt(10) == 0 ? r.nextInt() : 1 + r.nextInt(16)).putInt(0);
                }
                payload = q.readable(segs.array());
            }
            q.add(q.readable(header), payload, q.writable(1));
        }
    }

    private static long aimedSector(Random r, long[] edges) {
        return switch (r.nextInt(6)) {
            case 0 -> r.nextLong();
            case 1 -> -1 - r.nextInt(16);                              // just below 2^64: wraps
            case 2 -> Long.MAX_VALUE - r.nextInt(16);
            default -> Math.max(0, edges[r.nextInt(edges.length)] + r.nextInt(17) - 8);
        };
    }

    /** Runs {@link #ROUNDS} random rings against {@code device}; each round starts from a reset. */
    static void fuzz(VirtioDevice device, long seed) {
        fuzz(device, seed, (r, q) -> { });
    }

    static void fuzz(VirtioDevice device, long seed, Planter planter) {
        Random r = new Random(seed);
        TestBench b = new TestBench(device);
        for (int round = 0; round < ROUNDS; round++) {
            VirtqueueDriver.reg(b.transport, MmioTransport.REG_STATUS, 0);
            b.start();
            for (int qi = 0; qi < device.queueCount(); qi++) {
                VirtqueueDriver q = b.queue(qi);
                int n = 1 + r.nextInt(8);
                for (int i = 0; i < q.size(); i++) {
                    q.rawDescriptor(i, address(r), length(r), r.nextInt(8), r.nextInt(4) == 0 ? r.nextInt(1 << 16) : r.nextInt(q.size()));
                }
                planter.plant(r, q);
                for (int i = 0; i < n; i++) {
                    q.publish(r.nextInt(10) == 0 ? r.nextInt(1 << 16) : r.nextInt(q.size()));
                }
                if (r.nextInt(20) == 0) {
                    q.setAvailIndex(r.nextInt(1 << 16));
                }
                q.setUsedEvent(r.nextInt(1 << 16));
                b.kick(qi);
                // Either the device served what it could, or it stopped and asked for a reset.
                int status = b.transport.status();
                assertTrue((status & MmioTransport.STATUS_DRIVER_OK) != 0);
            }
        }
    }

    private static long address(Random r) {
        return switch (r.nextInt(6)) {
            case 0 -> r.nextLong();                                    // anywhere at all
            case 1 -> TestBench.RAM - r.nextInt(64);                   // straddling the end of RAM
            default -> 0x100000 + r.nextInt(0x180000);                 // inside the data areas
        };
    }

    private static int length(Random r) {
        return switch (r.nextInt(6)) {
            case 0 -> r.nextInt();                                     // huge or "negative"
            case 1 -> 0;
            case 2 -> 16;                                              // a request header
            default -> 1 + r.nextInt(4096);
        };
    }
}
