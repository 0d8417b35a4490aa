package dev.jvmm.vmm.sys;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Checks jvmm's ioctl numbers and kvm_run offsets against linux/kvm.h and linux/if_tun.h, compiled by the host's C compiler. */
class KvmAbiTest {
    @TempDir
    Path tmp;

    private static final String PROGRAM = """
            #include <stdio.h>
            #include <stddef.h>
            #include <linux/kvm.h>
            #include <linux/if_tun.h>
            #define P(name, value) printf("%s %lu\\n", name, (unsigned long)(value))
            int main(void) {
              P("KVM_GET_API_VERSION", KVM_GET_API_VERSION); P("KVM_CREATE_VM", KVM_CREATE_VM);
              P("KVM_CHECK_EXTENSION", KVM_CHECK_EXTENSION); P("KVM_GET_VCPU_MMAP_SIZE", KVM_GET_VCPU_MMAP_SIZE);
              P("KVM_GET_SUPPORTED_CPUID", KVM_GET_SUPPORTED_CPUID); P("KVM_CREATE_VCPU", KVM_CREATE_VCPU);
              P("KVM_SET_USER_MEMORY_REGION", KVM_SET_USER_MEMORY_REGION); P("KVM_SET_TSS_ADDR", KVM_SET_TSS_ADDR);
              P("KVM_SET_IDENTITY_MAP_ADDR", KVM_SET_IDENTITY_MAP_ADDR); P("KVM_CREATE_IRQCHIP", KVM_CREATE_IRQCHIP);
              P("KVM_IRQ_LINE", KVM_IRQ_LINE); P("KVM_IRQFD", KVM_IRQFD); P("KVM_CREATE_PIT2", KVM_CREATE_PIT2);
              P("KVM_IOEVENTFD", KVM_IOEVENTFD); P("KVM_RUN", KVM_RUN); P("KVM_GET_REGS", KVM_GET_REGS);
              P("KVM_SET_REGS", KVM_SET_REGS); P("KVM_GET_SREGS", KVM_GET_SREGS); P("KVM_SET_SREGS", KVM_SET_SREGS);
              P("KVM_SET_MSRS", KVM_SET_MSRS); P("KVM_GET_FPU", KVM_GET_FPU); P("KVM_SET_FPU", KVM_SET_FPU);
              P("KVM_GET_LAPIC", KVM_GET_LAPIC); P("KVM_SET_LAPIC", KVM_SET_LAPIC); P("KVM_SET_CPUID2", KVM_SET_CPUID2);
              P("KVM_GET_XCRS", KVM_GET_XCRS); P("KVM_SET_XCRS", KVM_SET_XCRS); P("KVM_CAP_XCRS", KVM_CAP_XCRS);
              P("XCRS_SIZE", sizeof(struct kvm_xcrs)); P("XCRS_FIRST_XCR", offsetof(struct kvm_xcrs, xcrs[0].xcr));
              P("XCRS_FIRST_VALUE", offsetof(struct kvm_xcrs, xcrs[0].value));
              P("KVM_GET_ONE_REG", KVM_GET_ONE_REG); P("KVM_SET_ONE_REG", KVM_SET_ONE_REG);
              P("KVM_CREATE_DEVICE", KVM_CREATE_DEVICE); P("KVM_SET_DEVICE_ATTR", KVM_SET_DEVICE_ATTR);
              P("KVM_GET_DEVICE_ATTR", KVM_GET_DEVICE_ATTR); P("KVM_HAS_DEVICE_ATTR", KVM_HAS_DEVICE_ATTR);
              P("RUN_IMMEDIATE_EXIT", offsetof(struct kvm_run, immediate_exit));
              P("RUN_EXIT_REASON", offsetof(struct kvm_run, exit_reason));
              P("RUN_IO_DIRECTION", offsetof(struct kvm_run, io.direction));
              P("RUN_IO_SIZE", offsetof(struct kvm_run, io.size)); P("RUN_IO_PORT", offsetof(struct kvm_run, io.port));
              P("RUN_IO_COUNT", offsetof(struct kvm_run, io.count));
              P("RUN_IO_DATA_OFFSET", offsetof(struct kvm_run, io.data_offset));
              P("RUN_MMIO_PHYS_ADDR", offsetof(struct kvm_run, mmio.phys_addr));
              P("RUN_MMIO_DATA", offsetof(struct kvm_run, mmio.data)); P("RUN_MMIO_LEN", offsetof(struct kvm_run, mmio.len));
              P("RUN_MMIO_IS_WRITE", offsetof(struct kvm_run, mmio.is_write));
              P("RUN_INTERNAL_SUBERROR", offsetof(struct kvm_run, internal.suberror));
              P("RUN_SYSTEM_EVENT_TYPE", offsetof(struct kvm_run, system_event.type));
              P("REGS_SIZE", sizeof(struct kvm_regs)); P("SREGS_SIZE", sizeof(struct kvm_sregs));
              P("FPU_SIZE", sizeof(struct kvm_fpu)); P("CPUID_ENTRY_SIZE", sizeof(struct kvm_cpuid_entry2));
              P("MSR_ENTRY_SIZE", sizeof(struct kvm_msr_entry));
              P("KVM_EXIT_IO", KVM_EXIT_IO); P("KVM_EXIT_MMIO", KVM_EXIT_MMIO); P("KVM_EXIT_HLT", KVM_EXIT_HLT);
              P("KVM_EXIT_SHUTDOWN", KVM_EXIT_SHUTDOWN); P("KVM_EXIT_SYSTEM_EVENT", KVM_EXIT_SYSTEM_EVENT);
              P("KVM_EXIT_INTERNAL_ERROR", KVM_EXIT_INTERNAL_ERROR); P("KVM_EXIT_FAIL_ENTRY", KVM_EXIT_FAIL_ENTRY);
              P("KVM_CAP_MAX_VCPUS", KVM_CAP_MAX_VCPUS); P("KVM_CAP_IMMEDIATE_EXIT", KVM_CAP_IMMEDIATE_EXIT);
              P("TUNSETIFF", TUNSETIFF); P("TUNSETOFFLOAD", TUNSETOFFLOAD); P("TUNSETVNETHDRSZ", TUNSETVNETHDRSZ);
              P("IFF_TAP", IFF_TAP); P("IFF_NO_PI", IFF_NO_PI); P("IFF_VNET_HDR", IFF_VNET_HDR);
              P("TUN_F_CSUM", TUN_F_CSUM); P("TUN_F_TSO4", TUN_F_TSO4); P("TUN_F_TSO6", TUN_F_TSO6);
              P("TUN_F_TSO_ECN", TUN_F_TSO_ECN);
              return 0;
            }
            """;

    @Test
    void ioctlNumbersAndOffsetsMatchTheKernelHeader() throws Exception {
        Assumptions.assumeTrue(Files.exists(Path.of("/usr/include/linux/kvm.h")), "linux/kvm.h not installed");
        Path src = tmp.resolve("abi.c");
        Files.writeString(src, PROGRAM);
        Process cc = new ProcessBuilder("cc", "-o", tmp.resolve("abi").toString(), src.toString())
                .redirectErrorStream(true).start();
        String ccOut = new String(cc.getInputStream().readAllBytes());
        assertEquals(0, cc.waitFor(), ccOut);
        Process run = new ProcessBuilder(tmp.resolve("abi").toString()).start();
        Map<String, Long> c = new HashMap<>();
        for (String line : new String(run.getInputStream().readAllBytes()).split("\n")) {
            String[] kv = line.split(" ");
            c.put(kv[0], Long.parseUnsignedLong(kv[1]));
        }
        assertEquals(0, run.waitFor());
        int checked = 0;
        for (Class<?> k : new Class<?>[] {KvmIoctls.class, Tap.class}) {
            for (var f : k.getFields()) {
                if (c.containsKey(f.getName())) {
                    assertEquals(c.get(f.getName()).longValue(), ((Number) f.get(null)).longValue(), f.getName());
                    checked++;
                }
            }
        }
        assertEquals(c.size(), checked, "every value the C program printed has a Java twin");
    }
}
