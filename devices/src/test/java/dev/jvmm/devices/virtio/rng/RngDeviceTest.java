package dev.jvmm.devices.virtio.rng;

import dev.jvmm.devices.virtio.TestBench;
import dev.jvmm.devices.virtio.VirtqueueDriver;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class RngDeviceTest {
    @Test
    void fillsBuffersWithRandomBytesUpToTheLimit() {
        RngDevice rng = new RngDevice(new SecureRandom());
        TestBench b = new TestBench(rng).start();
        VirtqueueDriver q = b.queue(0);
        var small = q.writable(4096);
        var big = q.writable(RngDevice.MAX_PER_REQUEST + 100);
        q.add(small);
        q.add(big);
        b.kick(0);
        assertEquals(4096, q.nextUsed().len());
        assertEquals(RngDevice.MAX_PER_REQUEST, q.nextUsed().len());
        byte[] got = q.contents(small);
        long filler = 0;
        for (byte x : got) {
            if (x == (byte) 0xA5) {
                filler++;
            }
        }
        assertFalse(filler > 100, "bytes were replaced, not left as the driver's filler");
        assertEquals(2, rng.metrics().get("requests"));
        assertEquals(4096 + RngDevice.MAX_PER_REQUEST, rng.metrics().get("bytes"));
    }
}
