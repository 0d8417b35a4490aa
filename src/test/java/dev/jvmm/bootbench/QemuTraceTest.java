package dev.jvmm.bootbench;

import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** QEMU 7.2's log trace lines (-msg timestamp=on), as seen in the lab, and their clock conversion. */
class QemuTraceTest {
    static final String LOG = """
            412@1764791021.100000:vm_state_notify running 1 reason 9 (running)
            415@1764791021.101000:kvm_vcpu_ioctl cpu_index 0, type 0xc008ae88, arg 0x7f3c
            415@1764791021.102500:kvm_vcpu_ioctl cpu_index 0, type 0x8040ae9f, arg 0x7f3c
            415@1764791021.123456:kvm_vcpu_ioctl cpu_index 0, type 0xae80, arg (nil)
            415@1764791021.130000:kvm_vcpu_ioctl cpu_index 0, type 0xae80, arg (nil)
            """;

    @Test
    void firstKvmRunIsTheFirstIoctlOfTypeAe80OnTheMonotonicClock() {
        long offset = 1_764_791_000_000_000_000L; // realtime minus monotonic
        QemuTrace t = new QemuTrace(offset, 500);
        assertEquals(21_123_456_000L, t.firstKvmRunNanos(LOG));
        assertEquals(21_100_000_000L, t.vmRunningNanos(LOG));
        assertEquals(2, QemuTrace.kvmRuns(LOG));
    }

    @Test
    void aLogWithoutKvmRunGivesNull() {
        QemuTrace t = new QemuTrace(0, 0);
        assertNull(t.firstKvmRunNanos("415@1.000001:kvm_vcpu_ioctl cpu_index 0, type 0xc008ae88, arg 0x1\n"));
        assertNull(t.firstKvmRunNanos(""));
        assertEquals(0, QemuTrace.kvmRuns("qemu-system-x86_64: some warning\n"));
    }

    @Test
    void clockOffsetIsMeasuredTightly() {
        QemuTrace t = QemuTrace.measureClocks();
        assertTrue(t.offsetErrorNanos() >= 0 && t.offsetErrorNanos() < 1_000_000, "error " + t.offsetErrorNanos());
        // now, written as QEMU would, comes back as about now on nanoTime's clock
        Instant now = Instant.now();
        long mono = System.nanoTime();
        String line = String.format("1@%d.%06d:kvm_vcpu_ioctl cpu_index 0, type 0xae80, arg (nil)%n",
                now.getEpochSecond(), now.getNano() / 1000);
        assertEquals(mono, t.firstKvmRunNanos(line), 5_000_000.0);
    }
}
