package dev.jvmm.lab;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class ElfFileTest {
    /**
     * A minimal ELF64 shared object: three program headers (LOAD over the whole file at vaddr
     * {@code base}, DYNAMIC, INTERP when {@code interp} is given), a dynamic section of NEEDED
     * entries and STRTAB, and the string table.
     */
    static byte[] elf(int machine, String interp, long base, String... needed) {
        int phoff = 64;
        int phnum = 3;
        int interpOff = phoff + phnum * 56;
        byte[] interpBytes = interp == null ? new byte[0] : (interp + "\0").getBytes(StandardCharsets.US_ASCII);
        int dynOff = (interpOff + interpBytes.length + 7) & ~7;
        int dynSize = (needed.length + 2) * 16;
        int strOff = dynOff + dynSize;
        StringBuilder strtab = new StringBuilder("\0");
        List<Integer> names = new ArrayList<>();
        for (String n : needed) {
            names.add(strtab.length());
            strtab.append(n).append('\0');
        }
        byte[] str = strtab.toString().getBytes(StandardCharsets.US_ASCII);
        int size = strOff + str.length;
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x464c457f).put(4, (byte) 2).put(5, (byte) 1).put(6, (byte) 1);
        b.putShort(16, (short) 3).putShort(18, (short) machine).putInt(20, 1);
        b.putLong(32, phoff).putShort(52, (short) 64).putShort(54, (short) 56).putShort(56, (short) phnum);
        // LOAD: the whole file at base
        b.putInt(phoff, 1).putLong(phoff + 8, 0).putLong(phoff + 16, base).putLong(phoff + 32, size).putLong(phoff + 40, size);
        // DYNAMIC
        int h = phoff + 56;
        b.putInt(h, 2).putLong(h + 8, dynOff).putLong(h + 16, base + dynOff).putLong(h + 32, dynSize);
        // INTERP, or a NOTE-typed header that says nothing
        h += 56;
        b.putInt(h, interp == null ? 4 : 3).putLong(h + 8, interpOff).putLong(h + 32, interpBytes.length);
        b.put(interpOff, interpBytes);
        for (int i = 0; i < needed.length; i++) {
            b.putLong(dynOff + 16 * i, 1).putLong(dynOff + 16 * i + 8, names.get(i));
        }
        b.putLong(dynOff + 16 * needed.length, 5).putLong(dynOff + 16 * needed.length + 8, base + strOff);
        b.put(strOff, str);
        return b.array();
    }

    @Test
    void readsMachineInterpreterAndNeededFromAStringTableFoundThroughItsVirtualAddress() throws IOException {
        ElfFile f = ElfFile.parse(elf(ElfFile.EM_AARCH64, "/lib/ld-linux-aarch64.so.1", 0x10000, "libz.so.1", "libc.so.6"),
                "t");
        assertEquals(ElfFile.EM_AARCH64, f.machine());
        assertEquals("/lib/ld-linux-aarch64.so.1", f.interpreter());
        assertEquals(List.of("libz.so.1", "libc.so.6"), f.needed());
        ElfFile lib = ElfFile.parse(elf(ElfFile.EM_AARCH64, null, 0, "ld-linux-aarch64.so.1"), "t");
        assertNull(lib.interpreter());
        assertEquals(List.of("ld-linux-aarch64.so.1"), lib.needed());
    }

    @Test
    void agreesWithReadelfOnThisHostsBinaries() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/readelf")), "needs binutils' readelf");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java").toRealPath();
        Path libjvm = Path.of(System.getProperty("java.home"), "lib", "server", "libjvm.so").toRealPath();
        for (Path p : List.of(java, libjvm, Path.of("/bin/ls").toRealPath())) {
            Process r = new ProcessBuilder("readelf", "-d", "-l", "-W", p.toString()).redirectErrorStream(true).start();
            String out = new String(r.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, r.waitFor(), out);
            List<String> needed = new ArrayList<>();
            Matcher m = Pattern.compile("\\(NEEDED\\)\\s+Shared library: \\[([^]]+)]").matcher(out);
            while (m.find()) {
                needed.add(m.group(1));
            }
            Matcher interp = Pattern.compile("Requesting program interpreter: ([^]]+)]").matcher(out);
            ElfFile f = ElfFile.read(p);
            assertEquals(needed, f.needed(), p.toString());
            assertEquals(interp.find() ? interp.group(1) : null, f.interpreter(), p.toString());
            assertEquals(ElfFile.EM_X86_64, f.machine());
            assertTrue(!needed.isEmpty(), p + " has no NEEDED entries?");
        }
    }

    @Test
    void refusesWhatIsNotALittleEndianElf64() {
        assertThrows(IOException.class, () -> ElfFile.parse(new byte[10], "short"));
        byte[] elf32 = elf(ElfFile.EM_AARCH64, null, 0, "libc.so.6");
        elf32[4] = 1;
        assertThrows(IOException.class, () -> ElfFile.parse(elf32, "elf32"));
        byte[] bigEndian = elf(ElfFile.EM_AARCH64, null, 0, "libc.so.6");
        bigEndian[5] = 2;
        assertThrows(IOException.class, () -> ElfFile.parse(bigEndian, "be"));
    }

    @Test
    void offsetsBeyondTheFileAreRefusedNotFollowed() {
        byte[] f = elf(ElfFile.EM_AARCH64, "/lib/ld", 0, "libc.so.6");
        ByteBuffer b = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(64 + 56 + 8, f.length - 8); // DYNAMIC's offset near the end, with its size beyond it
        IOException e = assertThrows(IOException.class, () -> ElfFile.parse(f, "dyn"));
        assertTrue(e.getMessage().contains("beyond the file"), e.getMessage());
        byte[] g = elf(ElfFile.EM_AARCH64, null, 0x400000, "libc.so.6");
        ByteBuffer.wrap(g).order(ByteOrder.LITTLE_ENDIAN).putLong(64 + 16, 0x900000); // strtab in no segment
        assertThrows(IOException.class, () -> ElfFile.parse(g, "strtab"));
        byte[] h = elf(ElfFile.EM_AARCH64, null, 0, "libc.so.6");
        ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN).putShort(56, (short) 60000); // phnum
        assertThrows(IOException.class, () -> ElfFile.parse(h, "phnum"));
    }

    @Test
    void byteFlipsGiveAnswersOrIOExceptionsNeverAnythingElse() {
        byte[] good = elf(ElfFile.EM_AARCH64, "/lib/ld-linux-aarch64.so.1", 0x10000, "libz.so.1", "libc.so.6");
        Random r = new Random(42);
        for (int i = 0; i < 20000; i++) {
            byte[] f = good.clone();
            for (int k = 0; k < 1 + r.nextInt(4); k++) {
                f[r.nextInt(f.length)] ^= (byte) (1 << r.nextInt(8));
            }
            try {
                ElfFile.parse(f, "fuzz");
            } catch (IOException expected) {
                // refused in words
            }
        }
    }
}
