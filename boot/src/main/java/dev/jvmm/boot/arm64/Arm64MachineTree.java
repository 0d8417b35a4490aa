package dev.jvmm.boot.arm64;

import dev.jvmm.boot.fdt.DeviceTree;
import dev.jvmm.boot.fdt.FdtNode;
import dev.jvmm.vmm.arm64.Arm64Registers;
import dev.jvmm.vmm.memory.MemoryRegion;

/**
 * The device tree of an {@link Arm64Machine}, with the bindings Linux 6.1 reads
 * (Documentation/devicetree/bindings): memory, cpus started by PSCI, psci over hvc, the GIC, the
 * architected timer, the fixed APB clock the PL031 needs, the PL031, an ns16550a console with
 * its interrupt, virtio-mmio devices, and chosen (bootargs, initrd, stdout-path). Addresses
 * and sizes take two cells each, so everything above 4 GiB is expressible.
 */
public final class Arm64MachineTree {
    private Arm64MachineTree() {}

    // interrupt specifier cells (dt-bindings/interrupt-controller/arm-gic.h and irq.h)
    static final int GIC_SPI = 0;
    static final int GIC_PPI = 1;
    static final int IRQ_TYPE_EDGE_RISING = 1;
    static final int IRQ_TYPE_LEVEL_HIGH = 4;
    /** The APB clock's rate: any fixed rate serves (the PL031 counts seconds itself); QEMU's virt uses 24 MHz. */
    static final long APB_CLOCK_HZ = 24_000_000;
    /** The 16550's input clock: 1.8432 MHz gives the PC's 115200 baud base, as x86's ttyS0 has. */
    static final long UART_CLOCK_HZ = 1_843_200;

    /** The flattened tree, ready for guest memory at {@link Arm64LoadPlan#dtbAddress()}. */
    public static byte[] dtb(Arm64Machine m) {
        return tree(m).toDtb();
    }

    /** The tree itself, for callers that add to it (and for tests). */
    public static DeviceTree tree(Arm64Machine m) {
        DeviceTree t = new DeviceTree();
        FdtNode root = t.root();
        // linux,dummy-virt: the name Linux and Firecracker give a board described wholly by its tree
        root.string("compatible", "linux,dummy-virt").u32("#address-cells", 2).u32("#size-cells", 2).string("model",
                "jvmm");
        String uart = "/serial@" + Long.toHexString(m.uart().base());

        root.node("aliases").string("serial0", uart);

        FdtNode chosen = root.node("chosen");
        chosen.string("bootargs", m.bootargs()).string("stdout-path", uart);
        if (m.initrdEnd() != m.initrdStart()) {
            chosen.u64("linux,initrd-start", m.initrdStart()).u64("linux,initrd-end", m.initrdEnd());
        }

        for (MemoryRegion r : m.memory()) {
            root.node("memory", r.guestBase()).string("device_type", "memory").cells("reg", hi(r.guestBase()),
                    lo(r.guestBase()), hi(r.size()), lo(r.size()));
        }

        FdtNode cpus = root.node("cpus").u32("#address-cells", 1).u32("#size-cells", 0);
        for (int i = 0; i < m.vcpus(); i++) {
            long mpidr = Arm64Registers.mpidr(i);
            cpus.node("cpu", mpidr).string("device_type", "cpu").string("compatible", "arm,armv8")
                    .string("enable-method", "psci").u32("reg", mpidr);
        }

        // PSCI 0.2 names its functions by the standard ids, so no cpu_on/cpu_off properties (those are
        // for "arm,psci", PSCI 0.1). KVM answers the hvc calls itself.
        root.node("psci").string("compatible", "arm,psci-0.2").string("method", "hvc");

        Arm64Machine.Gic g = m.gic();
        FdtNode gic = root.node("interrupt-controller", g.distBase())
                .string("compatible", g.version() == 3 ? "arm,gic-v3" : "arm,gic-400")
                .u32("#interrupt-cells", 3).empty("interrupt-controller")
                .u32("#address-cells", 2).u32("#size-cells", 2)
                .cells("reg", hi(g.distBase()), lo(g.distBase()), hi(g.distSize()), lo(g.distSize()),
                        hi(g.secondBase()), lo(g.secondBase()), hi(g.secondSize()), lo(g.secondSize()));
        int gicPhandle = gic.phandle();
        root.u32("interrupt-parent", gicPhandle);

        // A GICv2's PPI specifiers also name the CPUs the PPI reaches (bits 8-15); a GICv3's do not.
        long ppiFlags = IRQ_TYPE_LEVEL_HIGH | (g.version() == 2 ? ((1L << m.vcpus()) - 1) << 8 : 0);
        root.node("timer").string("compatible", "arm,armv8-timer").empty("always-on")
                .cells("interrupts", GIC_PPI, Arm64Layout.TIMER_SECURE_PPI, ppiFlags,
                        GIC_PPI, Arm64Layout.TIMER_PHYS_PPI, ppiFlags,
                        GIC_PPI, Arm64Layout.TIMER_VIRT_PPI, ppiFlags,
                        GIC_PPI, Arm64Layout.TIMER_HYP_PPI, ppiFlags);

        FdtNode clock = root.node("apb-pclk").string("compatible", "fixed-clock").u32("#clock-cells", 0)
                .u32("clock-frequency", APB_CLOCK_HZ).string("clock-output-names", "clk24mhz");
        int clockPhandle = clock.phandle();

        // The PL031 is an AMBA PrimeCell: the kernel's AMBA bus enables apb_pclk and matches the
        // driver by the peripheral ID registers the device model must answer (0x41031 at 0xfe0).
        Arm64Machine.Device rtc = m.rtc();
        root.node("rtc", rtc.base()).strings("compatible", "arm,pl031", "arm,primecell")
                .cells("reg", hi(rtc.base()), lo(rtc.base()), hi(rtc.size()), lo(rtc.size()))
                .cells("interrupts", GIC_SPI, rtc.spi(), IRQ_TYPE_LEVEL_HIGH)
                .u32("clocks", clockPhandle).string("clock-names", "apb_pclk");

        Arm64Machine.Device u = m.uart();
        root.node("serial", u.base()).string("compatible", "ns16550a")
                .cells("reg", hi(u.base()), lo(u.base()), hi(u.size()), lo(u.size()))
                .cells("interrupts", GIC_SPI, u.spi(), IRQ_TYPE_LEVEL_HIGH)
                .u32("clock-frequency", UART_CLOCK_HZ).u32("reg-shift", 0).u32("reg-io-width", 1);

        // Edge interrupts: each is a pulse through KVM_IRQFD, as on x86. dma-coherent: guest RAM is
        // ordinary cacheable memory to the host, so no cache maintenance around device access.
        for (Arm64Machine.Device d : m.virtio()) {
            root.node("virtio", d.base()).string("compatible", "virtio,mmio")
                    .cells("reg", hi(d.base()), lo(d.base()), hi(d.size()), lo(d.size()))
                    .cells("interrupts", GIC_SPI, d.spi(), IRQ_TYPE_EDGE_RISING).empty("dma-coherent");
        }
        return t;
    }

    private static long hi(long v) {
        return v >>> 32;
    }

    private static long lo(long v) {
        return v & 0xffff_ffffL;
    }
}
