package dev.jvmm.boot.fdt;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * dtc and fdtget (Debian's device-tree-compiler, the same dtc the kernel carries in
 * scripts/dtc) as the tests' independent reader of blobs: decompiling, recompiling, and running
 * every one of dtc's semantic checks as a warning.
 */
public final class Dtc {
    /**
     * Every check Debian's dtc 1.6.1 has (scripts/dtc/checks.c in the kernel has the same, plus
     * interrupt_map), some of which are off by default; each
     * is turned on as a warning so a tree that trips any of them is seen.
     */
    public static final List<String> CHECKS = List.of("duplicate_node_names", "duplicate_property_names",
            "node_name_chars", "node_name_chars_strict", "node_name_format", "node_name_vs_property_name",
            "unit_address_vs_reg", "property_name_chars", "property_name_chars_strict", "duplicate_label",
            "explicit_phandles", "name_is_string", "name_properties", "phandle_references", "path_references",
            "omit_unused_nodes", "address_cells_is_cell", "size_cells_is_cell", "device_type_is_string",
            "model_is_string", "status_is_string", "label_is_string", "compatible_is_string_list",
            "names_is_string_list", "alias_paths", "addr_size_cells", "reg_format", "ranges_format",
            "dma_ranges_format", "pci_bridge", "pci_device_bus_num", "pci_device_reg", "simple_bus_bridge",
            "simple_bus_reg", "i2c_bus_bridge", "i2c_bus_reg", "spi_bus_bridge", "spi_bus_reg", "unit_address_format",
            "avoid_default_addr_size", "avoid_unnecessary_addr_size", "unique_unit_address",
            "unique_unit_address_if_enabled", "obsolete_chosen_interrupt_controller", "chosen_node_is_root",
            "chosen_node_bootargs", "chosen_node_stdout_path", "clocks_property", "cooling_device_property", "dmas_property", "hwlocks_property",
            "interrupts_extended_property", "io_channels_property", "iommus_property", "mboxes_property", "msi_parent_property", "mux_controls_property", "phys_property",
            "power_domains_property", "pwms_property", "resets_property", "sound_dai_property", "thermal_sensors_property", "gpios_property",
            "deprecated_gpio_property", "interrupt_provider", "interrupts_property", "graph_nodes",
            "graph_child_address", "graph_port", "graph_endpoint");

    /** What a tool printed and how it ended. */
    public record Result(int status, String out, String err) {}

    private Dtc() {}

    public static void assumeInstalled() {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/dtc")) && Files.isExecutable(Path.of("/usr/bin/fdtget")),
                "dtc and fdtget (apt-get install device-tree-compiler) are needed");
    }

    /** Decompiles a blob to source with every check on; stderr holds dtc's warnings. */
    public static Result decompile(Path dir, byte[] dtb) throws IOException, InterruptedException {
        Path in = dir.resolve("tree.dtb");
        Files.write(in, dtb);
        List<String> argv = new ArrayList<>(List.of("dtc", "-I", "dtb", "-O", "dts"));
        for (String c : CHECKS) {
            argv.add("-W");
            argv.add(c);
        }
        argv.add(in.toString());
        return run(argv);
    }

    /** Compiles source to a blob (boot CPU 0, no padding): dtc's own rendering of the same tree. */
    public static byte[] compile(Path dir, String dts) throws IOException, InterruptedException {
        Path in = dir.resolve("tree.dts");
        Path out = dir.resolve("dtc.dtb");
        Files.writeString(in, dts);
        Result r = run(List.of("dtc", "-q", "-I", "dts", "-O", "dtb", "-o", out.toString(), in.toString()));
        assertTrue(r.status() == 0, "dtc could not compile:\n" + r.err());
        return Files.readAllBytes(out);
    }

    /** fdtget -t TYPE on a blob: one value as fdtget prints it. */
    public static String fdtget(Path dir, byte[] dtb, String type, String node, String property)
            throws IOException, InterruptedException {
        Path in = dir.resolve("get.dtb");
        Files.write(in, dtb);
        Result r = run(List.of("fdtget", "-t", type, in.toString(), node, property));
        assertTrue(r.status() == 0, "fdtget " + node + " " + property + ": " + r.err());
        return r.out().strip();
    }

    public static Result run(List<String> argv) throws IOException, InterruptedException {
        Path err = Files.createTempFile("dtc", ".err");
        try {
            Process p = new ProcessBuilder(argv).redirectError(err.toFile()).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), argv.get(0) + " did not finish");
            return new Result(p.exitValue(), out, Files.readString(err));
        } finally {
            Files.delete(err);
        }
    }
}
