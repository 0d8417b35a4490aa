package dev.jvmm.vmm.arm64;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Checks every constant of {@link Arm64Kvm} (and the register ids {@link Arm64Registers} writes)
 * against the arm64 kernel headers (linux-libc-dev-arm64-cross). arm64 programs cannot run here,
 * so the values come out of the cross-compiler at compile time: each becomes an initialised
 * 64-bit constant in the assembly that aarch64-linux-gnu-gcc -S writes, which is read back.
 */
class Arm64KvmAbiTest {
    @TempDir
    Path tmp;

    static final Path CROSS_GCC = Path.of("/usr/bin/aarch64-linux-gnu-gcc");
    static final Path ARM64_KVM_H = Path.of("/usr/aarch64-linux-gnu/include/asm/kvm.h");

    static final String CORE = "KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(%s)";

    /** Java names whose C twin is an expression rather than a macro of the same name. */
    static Map<String, String> expressions() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("KVM_VCPU_INIT_SIZE", "sizeof(struct kvm_vcpu_init)");
        m.put("KVM_VCPU_INIT_FEATURES", "sizeof(((struct kvm_vcpu_init *)0)->features) / 4");
        m.put("KVM_ONE_REG_SIZE", "sizeof(struct kvm_one_reg)");
        m.put("KVM_CREATE_DEVICE_SIZE", "sizeof(struct kvm_create_device)");
        m.put("KVM_CREATE_DEVICE_FD_OFFSET", "offsetof(struct kvm_create_device, fd)");
        m.put("KVM_CREATE_DEVICE_FLAGS_OFFSET", "offsetof(struct kvm_create_device, flags)");
        m.put("KVM_DEVICE_ATTR_SIZE", "sizeof(struct kvm_device_attr)");
        m.put("KVM_DEVICE_ATTR_GROUP_OFFSET", "offsetof(struct kvm_device_attr, group)");
        m.put("KVM_DEVICE_ATTR_ATTR_OFFSET", "offsetof(struct kvm_device_attr, attr)");
        m.put("KVM_DEVICE_ATTR_ADDR_OFFSET", "offsetof(struct kvm_device_attr, addr)");
        m.put("KVM_REGS_X0_OFFSET", "offsetof(struct kvm_regs, regs.regs[0])");
        m.put("KVM_REGS_SP_OFFSET", "offsetof(struct kvm_regs, regs.sp)");
        m.put("KVM_REGS_PC_OFFSET", "offsetof(struct kvm_regs, regs.pc)");
        m.put("KVM_REGS_PSTATE_OFFSET", "offsetof(struct kvm_regs, regs.pstate)");
        m.put("REG_PC", String.format(CORE, "regs.pc"));
        m.put("REG_PSTATE", String.format(CORE, "regs.pstate"));
        m.put("REG_MPIDR_EL1", "ARM64_SYS_REG(3, 0, 0, 0, 5)");
        m.put("RUN_EXIT_REASON", "offsetof(struct kvm_run, exit_reason)");
        m.put("RUN_IMMEDIATE_EXIT", "offsetof(struct kvm_run, immediate_exit)");
        m.put("RUN_MMIO_PHYS_ADDR", "offsetof(struct kvm_run, mmio.phys_addr)");
        m.put("RUN_MMIO_DATA", "offsetof(struct kvm_run, mmio.data)");
        m.put("RUN_MMIO_LEN", "offsetof(struct kvm_run, mmio.len)");
        m.put("RUN_MMIO_IS_WRITE", "offsetof(struct kvm_run, mmio.is_write)");
        m.put("RUN_SYSTEM_EVENT_TYPE", "offsetof(struct kvm_run, system_event.type)");
        return m;
    }

    /** Values computed by Java methods, each with its C expression. */
    static Map<String, Object[]> computed() {
        Map<String, Object[]> m = new LinkedHashMap<>();
        for (int n = 0; n <= 30; n++) {
            m.put("x" + n, new Object[] {Arm64Kvm.x(n), String.format(CORE, "regs.regs[" + n + "]")});
        }
        m.put("irqLineSpi(5)", new Object[] {(long) Arm64Kvm.irqLineSpi(5),
                "(KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | (5 + 32)"});
        m.put("BOOT_PSTATE", new Object[] {Arm64Registers.BOOT_PSTATE,
                "PSR_MODE_EL1h | PSR_D_BIT | PSR_A_BIT | PSR_I_BIT | PSR_F_BIT"});
        m.put("initFeatures(secondary)", new Object[] {(long) Arm64Registers.initFeatures(false),
                "(1 << KVM_ARM_VCPU_PSCI_0_2) | (1 << KVM_ARM_VCPU_POWER_OFF)"});
        return m;
    }

    @Test
    void everyConstantMatchesTheArm64Headers() throws Exception {
        assumeTrue(Files.isExecutable(CROSS_GCC) && Files.exists(ARM64_KVM_H),
                "needs gcc-aarch64-linux-gnu and linux-libc-dev-arm64-cross");
        Map<String, Long> java = new LinkedHashMap<>();
        Map<String, String> c = new LinkedHashMap<>();
        Map<String, String> exprs = expressions();
        for (Field f : Arm64Kvm.class.getFields()) {
            if (!Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            Object v = f.get(null);
            // ints are unsigned 32-bit values in C (PSCI ids above 2^31)
            java.put(f.getName(), v instanceof Integer i ? Integer.toUnsignedLong(i) : (Long) v);
            c.put(f.getName(), exprs.getOrDefault(f.getName(), f.getName()));
        }
        computed().forEach((name, vc) -> {
            java.put(name, (Long) vc[0]);
            c.put(name, (String) vc[1]);
        });

        // The uapi asm/kvm.h sizes the GICv3 regions with SZ_64K, a kernel-internal macro (linux/sizes.h).
        StringBuilder src = new StringBuilder("#define SZ_64K 0x00010000\n#include <stddef.h>\n#include <linux/kvm.h>\n"
                + "#include <linux/psci.h>\n#include <asm/ptrace.h>\n");
        int i = 0;
        Map<String, String> labels = new LinkedHashMap<>();
        for (var e : c.entrySet()) {
            String label = "v" + i++;
            labels.put(label, e.getKey());
            src.append("const unsigned long long ").append(label).append(" = (unsigned long long)(").append(e.getValue())
                    .append(");\n");
        }
        Path file = tmp.resolve("abi.c");
        Files.writeString(file, src);
        Process cc = new ProcessBuilder(CROSS_GCC.toString(), "-S", "-O0", "-o", "-", file.toString())
                .redirectError(tmp.resolve("cc.err").toFile()).start();
        String asm = new String(cc.getInputStream().readAllBytes());
        assertEquals(0, cc.waitFor(), Files.readString(tmp.resolve("cc.err")));

        // gcc writes a constant as ".xword N", or as ".zero 8" when it is 0
        Matcher m = Pattern.compile("(?m)^(v\\d+):\\s*\\n\\s*(?:\\.xword\\s+(-?\\d+)|\\.zero\\s+8)").matcher(asm);
        Map<String, Long> headers = new LinkedHashMap<>();
        while (m.find()) {
            headers.put(labels.get(m.group(1)), m.group(2) == null ? 0 : new BigInteger(m.group(2)).longValue());
        }
        assertEquals(labels.size(), headers.size(), "one constant read back per value:\n" + asm);
        for (var e : java.entrySet()) {
            assertEquals(Long.toHexString(headers.get(e.getKey())), Long.toHexString(e.getValue()),
                    e.getKey() + " (C: " + c.get(e.getKey()) + ")");
        }
        assertTrue(java.size() > 80, "checked " + java.size() + " values");
    }
}
