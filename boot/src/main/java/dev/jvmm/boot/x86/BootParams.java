package dev.jvmm.boot.x86;

/** Offsets in struct boot_params (the zero page) and its setup_header; Documentation/arch/x86/zero-page.rst. */
final class BootParams {
    private BootParams() {}

    static final int SIZE = 4096;
    static final int ACPI_RSDP_ADDR = 0x070;
    static final int EXT_RAMDISK_IMAGE = 0x0c0;
    static final int EXT_RAMDISK_SIZE = 0x0c4;
    static final int EXT_CMD_LINE_PTR = 0x0c8;
    static final int E820_ENTRIES = 0x1e8;
    static final int SETUP_HEADER = 0x1f1;
    static final int BOOT_FLAG = 0x1fe;
    static final int HEADER = 0x202;
    static final int TYPE_OF_LOADER = 0x210;
    static final int LOADFLAGS = 0x211;
    static final int RAMDISK_IMAGE = 0x218;
    static final int RAMDISK_SIZE = 0x21c;
    static final int HEAP_END_PTR = 0x224;
    static final int CMD_LINE_PTR = 0x228;
    static final int KERNEL_ALIGNMENT = 0x230;
    static final int CMDLINE_SIZE = 0x238;
    static final int E820_TABLE = 0x2d0;
    static final int E820_MAX = 128;

    static final int LOADER_UNDEFINED = 0xff;
    static final int CAN_USE_HEAP = 0x80;
    static final int KEEP_SEGMENTS = 0x40;
}
