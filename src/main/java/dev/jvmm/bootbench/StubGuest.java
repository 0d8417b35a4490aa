package dev.jvmm.bootbench;

import dev.jvmm.images.Cache;
import dev.jvmm.images.Hashing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HexFormat;

/**
 * The guest of {@code jvmm bench boot --stub}: a 310-byte x86_64 kernel (an ELF vmlinux to jvmm's
 * loader) that prints the bench's ready line, writes the boot timer and the exit register, and
 * is done. It times jvmm alone: process start, set-up, first KVM_RUN, teardown and memory, with
 * no guest kernel in the way. Its few hundred instructions run at guest CPL0, which PVM's
 * /dev/kvm emulates (an unmodified Linux it cannot run), so it measures the host side truthfully
 * on this project's machines. The source is stub-guest.S beside this class's resources.
 */
public final class StubGuest {
    /** Where the code goes: 16 MiB, clear of the zero page, command line, page tables and initrd. */
    static final long LOAD_ADDRESS = 0x100_0000L;
    /** The page directory the code fills for the platform page: the page after the code. */
    static final long PAGE_DIRECTORY = LOAD_ADDRESS + 0x1000;
    /** File offset of the code: page-aligned, as the load address is. */
    static final int CODE_OFFSET = 0x1000;
    /** stub-guest.S assembled (as --64; objcopy -O binary -j .text), up to its label {@code end}. */
    static final byte[] CODE = HexFormat.of().parseHex(
            "fc8bbe280200004531c0488d1deb00000031c98a040b84c074173a040f7504ffc1ebf0803f000f848c00000048ffc7ebe0"
            + "4801cf0fb6078d50d083fa09760e83c8208d509f83fa05770f83c20a49c1e0044909d048ffc7ebdb4c89c048c1e81e7456"
            + "25ff0100000f20da4881e200f0ffff488b124881e200f0ffff488d0d7e0f00004883c90348890cc24c89c048c1e81525ff"
            + "0100004c89c14881e10000e0ff4881c99b000000488d15520f000048890cc20f20d80f22d8488d354e0000004c8d0d0200"
            + "0000eb254d85c0741941c6007b488d35480000004c8d0d02000000eb0c41c6401000b0fee664f4ebfd66baf803ac84c074"
            + "03eeebf841ffe16a766d6d2e706c6174666f726d3d3078006a766d6d2d62656e63683a2072656164790a006a766d6d2d62"
            + "656e63683a2073746f7070696e670a00");

    private StubGuest() {}

    /** The kernel file: an ELF64 header, one PT_LOAD (the code, then the zeroed page directory), the code. */
    static byte[] elf() {
        ByteBuffer b = ByteBuffer.allocate(CODE_OFFSET + CODE.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* little-endian */, 1 /* version */});
        b.putShort(16, (short) 2); // ET_EXEC
        b.putShort(18, (short) 62); // EM_X86_64
        b.putInt(20, 1);
        b.putLong(24, LOAD_ADDRESS); // entry
        b.putLong(32, 64); // program headers right after this header
        b.putShort(52, (short) 64);
        b.putShort(54, (short) 56);
        b.putShort(56, (short) 1);
        b.putShort(58, (short) 64); // e_shentsize; no section headers
        int ph = 64;
        b.putInt(ph, 1); // PT_LOAD
        b.putInt(ph + 4, 7); // read, write, execute: the code writes the page directory after it
        b.putLong(ph + 8, CODE_OFFSET);
        b.putLong(ph + 16, LOAD_ADDRESS);
        b.putLong(ph + 24, LOAD_ADDRESS);
        b.putLong(ph + 32, CODE.length);
        b.putLong(ph + 40, PAGE_DIRECTORY + 0x1000 - LOAD_ADDRESS);
        b.putLong(ph + 48, 0x1000);
        b.put(CODE_OFFSET, CODE);
        return b.array();
    }

    /** The kernel file in jvmm's cache (written once per content); returns its path. */
    public static Path writeCached() throws IOException {
        byte[] elf = elf();
        Path out = Cache.dir("bootbench").resolve("stub-guest-" + Hashing.key(HexFormat.of().formatHex(elf)) + ".elf");
        if (!Files.isRegularFile(out)) {
            Files.createDirectories(out.getParent());
            Path tmp = out.resolveSibling(out.getFileName() + "." + ProcessHandle.current().pid() + ".partial");
            Files.write(tmp, elf);
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        return out;
    }
}
