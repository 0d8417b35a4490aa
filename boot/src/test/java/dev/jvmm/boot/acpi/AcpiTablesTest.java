package dev.jvmm.boot.acpi;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AcpiTablesTest {
    @TempDir
    Path tmp;

    static final AcpiTables.Config CONFIG = new AcpiTables.Config(2, 0xfec00000L, 0xfee00000L,
            List.of(new AcpiTables.MmioDevice(0xc0001000L, 0x1000, 5)));

    private static int sum(byte[] b, int len) {
        int s = 0;
        for (int i = 0; i < len; i++) {
            s += b[i];
        }
        return s & 0xff;
    }

    @Test
    void everyTableChecksumsToZero() {
        for (Map.Entry<String, byte[]> e : AcpiTables.build(CONFIG, 0xe0000).entrySet()) {
            byte[] t = e.getValue();
            if (e.getKey().startsWith("RSDP")) {
                assertEquals(0, sum(t, 20), "RSDP v1 checksum");
                assertEquals(0, sum(t, 36), "RSDP extended checksum");
            } else {
                assertEquals(0, sum(t, t.length), e.getKey());
            }
        }
    }

    /** Disassembles a table with iasl -d (ACPICA, which Linux also uses) and returns the text. */
    private String disassemble(String sig, byte[] table) throws Exception {
        Path dat = tmp.resolve(sig.toLowerCase() + ".dat");
        Files.write(dat, table);
        Process p = new ProcessBuilder("iasl", "-d", dat.toString()).directory(tmp.toFile()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), log);
        assertFalse(log.contains("Error") || log.contains("error("), log);
        return Files.readString(tmp.resolve(sig.toLowerCase() + ".dsl"));
    }

    @Test
    void iaslDisassemblesEveryTableAsExpected() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/iasl")), "iasl (acpica-tools) is not installed");
        Map<String, byte[]> t = AcpiTables.build(CONFIG, 0xe0000);
        for (Map.Entry<String, byte[]> e : t.entrySet()) {
            String sig = e.getKey().substring(0, 4);
            if (sig.equals("RSDP")) {
                continue;
            }
            String dsl = disassemble(sig, e.getValue());
            switch (sig) {
                case "FACP" -> {
                    assertTrue(dsl.contains("Hardware Reduced (V5) : 1"), dsl);
                    assertTrue(dsl.contains("Reset Register Supported (V2) : 1"), dsl);
                    assertTrue(dsl.matches("(?s).*Sleep Control Register.*Address : 00000000000003C0.*"), dsl);
                    assertTrue(dsl.contains("8042 Present on ports 60/64 (V2) : 1"), dsl);
                }
                case "APIC" -> {
                    assertEquals(2, dsl.split("Subtable Type : 00 \\[Processor Local APIC\\]").length - 1, dsl);
                    assertTrue(dsl.contains("Subtable Type : 01 [I/O APIC]"), dsl);
                    assertTrue(dsl.contains("Address : FEC00000"), dsl);
                }
                case "DSDT" -> {
                    assertTrue(dsl.contains("Name (_S5, Package (0x02)"), dsl);
                    assertTrue(dsl.contains("EisaId (\"PNP0501\")"), dsl);
                    assertTrue(dsl.contains("EisaId (\"PNP0303\")"), dsl);
                    assertTrue(dsl.contains("Name (_HID, \"LNRO0005\")"), dsl);
                    assertTrue(dsl.contains("0xC0001000,         // Address Base"), dsl);
                    assertTrue(dsl.matches("(?s).*Interrupt \\(ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, \\)\\s*\\{\\s*0x00000005,.*"), dsl);
                }
                case "XSDT" -> assertTrue(dsl.contains("ACPI Table Address   0 : 00000000000E0080"), dsl);
                default -> { }
            }
        }
    }

    @Test
    void amlEncodings() {
        assertEquals(0x0105D041L, Aml.eisaId("PNP0501"));
        assertArrayEquals(new byte[] {0x3f}, Aml.pkgLength(62));
        assertArrayEquals(new byte[] {0x41, 0x04}, Aml.pkgLength(63), "two bytes once 63 + 1 no longer fits in 6 bits");
        assertArrayEquals(new byte[] {(byte) 0x81, 0x00, 0x01}, Aml.pkgLength(4094), "three bytes from 4096 on");
        assertArrayEquals(new byte[] {0x0a, 5}, Aml.integer(5));
        assertArrayEquals(new byte[] {0x0c, 0, 0x10, 0, (byte) 0xc0}, Aml.integer(0xc0001000L));
        assertArrayEquals(new byte[] {'\\', '_', 'S', 'B', '_'}, Aml.nameString("\\_SB"));
    }
}
