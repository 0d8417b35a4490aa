package dev.jvmm.boot.fdt;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A blob read the way Linux's early boot reads it, through libfdt (Debian's libfdt-dev: the same
 * dtc 1.6.1 code the 6.1 kernel carries in scripts/dtc/libfdt and builds into lib/fdt*.c):
 * fdt_check_full, then what drivers/of/fdt.c's early scans take from the tree (the root's cell
 * sizes, /chosen's bootargs, initrd and stdout-path, every memory node's reg decoded with those
 * cell sizes), the cpu nodes, and every interrupts property resolved to its interrupt parent
 * through the phandle, as the kernel's of_irq code walks it.
 */
public final class Libfdt {
    private static final String PROGRAM = """
            #include <libfdt.h>
            #include <stdio.h>
            #include <stdlib.h>
            #include <string.h>

            static unsigned long long cells(const fdt32_t *p, int n) {
              unsigned long long v = 0;
              for (int i = 0; i < n; i++) v = (v << 32) | fdt32_to_cpu(p[i]);
              return v;
            }

            static const char *path(const void *fdt, int node, char *buf) {
              return fdt_get_path(fdt, node, buf, 256) == 0 ? buf : "?";
            }

            /* the interrupt parent: the node's own, else its ancestors', as of_irq_find_parent walks */
            static int parent(const void *fdt, int node) {
              for (int n = node; n >= 0; n = fdt_parent_offset(fdt, n)) {
                const fdt32_t *p = fdt_getprop(fdt, n, "interrupt-parent", NULL);
                if (p) return fdt_node_offset_by_phandle(fdt, fdt32_to_cpu(*p));
              }
              return -1;
            }

            int main(int argc, char **argv) {
              static char blob[2 << 20];
              FILE *f = fopen(argv[1], "rb");
              size_t size = fread(blob, 1, sizeof blob, f);
              fclose(f);
              int err = fdt_check_full(blob, size);
              printf("check %s\\n", err ? fdt_strerror(err) : "ok");
              if (err) return 1;
              char buf[256], buf2[256];
              int len;
              const fdt32_t *ac = fdt_getprop(blob, 0, "#address-cells", NULL);
              const fdt32_t *sc = fdt_getprop(blob, 0, "#size-cells", NULL);
              int na = ac ? fdt32_to_cpu(*ac) : 1, ns = sc ? fdt32_to_cpu(*sc) : 1;
              printf("root-cells %d %d\\n", na, ns);
              int chosen = fdt_path_offset(blob, "/chosen");
              if (chosen >= 0) {
                const char *args = fdt_getprop(blob, chosen, "bootargs", NULL);
                if (args) printf("bootargs %s\\n", args);
                const fdt32_t *s = fdt_getprop(blob, chosen, "linux,initrd-start", &len);
                const fdt32_t *e = fdt_getprop(blob, chosen, "linux,initrd-end", NULL);
                if (s && e) printf("initrd 0x%llx 0x%llx\\n", cells(s, len / 4), cells(e, len / 4));
                const char *out = fdt_getprop(blob, chosen, "stdout-path", NULL);
                if (out) printf("stdout %s %s\\n", out, fdt_path_offset(blob, out) >= 0 ? "found" : "missing");
              }
              int node;
              fdt_for_each_subnode(node, blob, 0) {
                const char *type = fdt_getprop(blob, node, "device_type", NULL);
                if (!type || strcmp(type, "memory")) continue;
                const fdt32_t *reg = fdt_getprop(blob, node, "reg", &len);
                for (int i = 0; reg && i + na + ns <= len / 4; i += na + ns)
                  printf("memory 0x%llx 0x%llx\\n", cells(reg + i, na), cells(reg + i + na, ns));
              }
              int cpus = fdt_path_offset(blob, "/cpus");
              if (cpus >= 0) {
                fdt_for_each_subnode(node, blob, cpus) {
                  const fdt32_t *reg = fdt_getprop(blob, node, "reg", NULL);
                  const char *m = fdt_getprop(blob, node, "enable-method", NULL);
                  printf("cpu 0x%llx %s\\n", reg ? cells(reg, 1) : ~0ULL, m ? m : "-");
                }
              }
              for (node = fdt_next_node(blob, -1, NULL); node >= 0; node = fdt_next_node(blob, node, NULL)) {
                const fdt32_t *irq = fdt_getprop(blob, node, "interrupts", &len);
                if (!irq) continue;
                int p = parent(blob, node);
                const fdt32_t *ic = p >= 0 ? fdt_getprop(blob, p, "#interrupt-cells", NULL) : NULL;
                int n = ic ? fdt32_to_cpu(*ic) : 0;
                printf("interrupts %s -> %s:", path(blob, node, buf), p >= 0 ? path(blob, p, buf2) : "none");
                for (int i = 0; n && i + n <= len / 4; i += n) {
                  printf(" <");
                  for (int j = 0; j < n; j++) printf(j ? " %u" : "%u", fdt32_to_cpu(irq[i + j]));
                  printf(">");
                }
                printf("%s\\n", n && (len / 4) % n == 0 ? "" : " (cells do not divide)");
              }
              return 0;
            }
            """;

    private static Path binary;

    private Libfdt() {}

    public static void assumeInstalled() {
        assumeTrue(Files.exists(Path.of("/usr/include/libfdt.h")), "libfdt (apt-get install libfdt-dev) is needed");
    }

    /** The lines the harness prints for {@code dtb}, which must pass fdt_check_full. */
    public static List<String> read(Path dir, byte[] dtb) throws IOException, InterruptedException {
        Dtc.Result r = run(dir, dtb);
        assertEquals(0, r.status(), r.out() + r.err());
        return List.of(r.out().split("\n"));
    }

    /** fdt_check_full's verdict: "check ok" or "check FDT_ERR_...". */
    public static String check(Path dir, byte[] dtb) throws IOException, InterruptedException {
        return run(dir, dtb).out().split("\n")[0];
    }

    private static Dtc.Result run(Path dir, byte[] dtb) throws IOException, InterruptedException {
        Path in = dir.resolve("libfdt.dtb");
        Files.write(in, dtb);
        return Dtc.run(List.of(binary().toString(), in.toString()));
    }

    private static synchronized Path binary() throws IOException, InterruptedException {
        if (binary == null) {
            Path dir = Files.createTempDirectory("libfdt");
            dir.toFile().deleteOnExit();
            Path src = dir.resolve("view.c");
            Files.writeString(src, PROGRAM);
            Path out = dir.resolve("view");
            Dtc.Result r = Dtc.run(List.of("cc", "-O1", "-o", out.toString(), src.toString(), "-lfdt"));
            assertEquals(0, r.status(), r.err());
            out.toFile().deleteOnExit();
            src.toFile().deleteOnExit();
            binary = out;
        }
        return binary;
    }
}
