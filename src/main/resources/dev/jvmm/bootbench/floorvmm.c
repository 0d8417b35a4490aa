/*
 * floorvmm: the floor of `jvmm bench boot --compare`. A minimal but complete x86_64 KVM VMM that
 * boots a bzImage the way jvmm does (Linux 64-bit boot protocol, in-kernel irqchip and PIT,
 * KVM's supported CPUID with the hypervisor bit, a 16550 UART on 0x3f8, the platform page at
 * 0xC0000000, named on the command line as jvmm.platform=), doing nothing more, so that what is
 * left of a VMM's boot time is the guest's.
 *
 * usage: floorvmm -k BZIMAGE [-i INITRD] [-c CMDLINE] [-m MIB] [-H]
 *   -H  madvise(MADV_HUGEPAGE) the guest RAM (QEMU does this by default)
 * stdout: the guest's console, unbuffered. stderr, times in CLOCK_MONOTONIC ns:
 *   floorvmm: first-kvm-run NS       just before the first KVM_RUN
 *   floorvmm: boot-timer NS          the guest wrote 123 to 0xC0000000
 *   floorvmm: exit STATUS NS REASON  when it stops
 *   floorvmm: memory vmhwm-kib=N guest-resident-kib=N   its own peak RSS, resident guest RAM (mincore)
 * exit status: what the guest wrote to 0xC0000010; 64 reset; 65 triple fault; 0 a KVM shutdown event;
 * 2 bad arguments; 70 KVM failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Guest physical layout (all below 1 MiB but the kernel and initrd). */
#define GDT_ADDR 0x500UL
#define BOOT_PARAMS 0x7000UL
#define PML4_ADDR 0x9000UL /* then the PDPT at 0xa000 and four page directories: 0-4 GiB in 2 MiB pages */
#define STACK_TOP 0x1e000UL
#define CMDLINE_ADDR 0x20000UL
#define KERNEL_ADDR 0x100000UL
#define EBDA_START 0x9fc00UL
#define PLATFORM_PAGE 0xc0000000UL
#define MAX_MIB 3072 /* one slot below the 32-bit hole */

static uint8_t *ram;
static size_t ram_size;
static int vm_fd;

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void die(int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("floorvmm: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(status);
}

static void *read_file(const char *what, const char *path, size_t *size) {
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        die(2, "cannot open %s %s: %s", what, path, strerror(errno));
    uint8_t *buf = malloc(st.st_size ? st.st_size : 1);
    size_t got = 0;
    while (buf && got < (size_t) st.st_size) {
        ssize_t n = read(fd, buf + got, st.st_size - got);
        if (n <= 0)
            die(2, "cannot read %s %s: %s", what, path, n < 0 ? strerror(errno) : "short file");
        got += n;
    }
    close(fd);
    *size = got;
    return buf;
}

static uint16_t rd16(const uint8_t *p) { return p[0] | p[1] << 8; }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | (uint32_t) rd16(p + 2) << 16; }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* The Linux x86 boot protocol (Documentation/x86/boot.rst): zero page, command line, kernel, initrd. */
static uint64_t load_linux(const char *kpath, const char *ipath, const char *cmdline) {
    size_t ksize, isize = 0;
    uint8_t *k = read_file("kernel", kpath, &ksize);
    if (ksize < 0x270 || rd32(k + 0x202) != 0x53726448 /* "HdrS" */)
        die(2, "%s is not a bzImage (no HdrS header)", kpath);
    uint16_t version = rd16(k + 0x206);
    if (version < 0x020c || !(rd16(k + 0x236) & 1 /* XLF_KERNEL_64 */))
        die(2, "%s: boot protocol %x.%02x has no 64-bit entry (needs 2.12+)", kpath, version >> 8, version & 0xff);
    size_t setup_sects = k[0x1f1] ? k[0x1f1] : 4;
    size_t pm_offset = (setup_sects + 1) * 512;
    uint64_t pref = 0;
    memcpy(&pref, k + 0x258, 8);
    uint64_t run_start = pref > KERNEL_ADDR ? pref : KERNEL_ADDR;
    uint64_t kernel_end = run_start + rd32(k + 0x260); /* init_size from the runtime start */
    if (pm_offset >= ksize || KERNEL_ADDR + (ksize - pm_offset) > ram_size || kernel_end > ram_size)
        die(2, "%s does not fit in %zu MiB", kpath, ram_size >> 20);
    memcpy(ram + KERNEL_ADDR, k + pm_offset, ksize - pm_offset);

    uint8_t *bp = ram + BOOT_PARAMS;
    memset(bp, 0, 4096);
    size_t hdr_end = 0x202 + k[0x201];
    memcpy(bp + 0x1f1, k + 0x1f1, hdr_end - 0x1f1);
    bp[0x210] = 0xff; /* type_of_loader: undefined */
    bp[0x211] |= 0x01; /* loadflags: LOADED_HIGH */
    size_t clen = strlen(cmdline);
    if (clen > rd32(k + 0x238))
        die(2, "the command line is %zu bytes; the kernel takes at most %u", clen, rd32(k + 0x238));
    memcpy(ram + CMDLINE_ADDR, cmdline, clen + 1);
    wr32(bp + 0x228, CMDLINE_ADDR);
    if (ipath) {
        uint8_t *initrd = read_file("initrd", ipath, &isize);
        uint64_t top = rd32(k + 0x22c) + 1ULL; /* initrd_addr_max is the highest byte allowed */
        top = top < ram_size ? top : ram_size;
        uint64_t at = (top - isize) & ~0xfffULL;
        if (isize > top || at < kernel_end)
            die(2, "initrd %s (%zu bytes) does not fit above the kernel in %zu MiB", ipath, isize, ram_size >> 20);
        memcpy(ram + at, initrd, isize);
        wr32(bp + 0x218, at);
        wr32(bp + 0x21c, isize);
        free(initrd);
    }
    /* e820: low RAM up to the EBDA, then everything from 1 MiB. */
    uint8_t *e = bp + 0x2d0;
    wr64(e, 0), wr64(e + 8, EBDA_START), wr32(e + 16, 1);
    wr64(e + 20, KERNEL_ADDR), wr64(e + 28, ram_size - KERNEL_ADDR), wr32(e + 36, 1);
    bp[0x1e8] = 2;
    free(k);
    return KERNEL_ADDR + 0x200; /* the 64-bit entry */
}

/* Long mode as the 64-bit boot protocol wants it: identity paging, flat __BOOT_CS/__BOOT_DS, RSI = zero page. */
static void setup_vcpu(int kvm_fd, int vcpu_fd, uint64_t entry) {
    uint64_t *gdt = (uint64_t *) (ram + GDT_ADDR);
    gdt[0] = gdt[1] = 0;
    gdt[2] = 0x00af9b000000ffffULL; /* 0x10: 64-bit code, execute/read */
    gdt[3] = 0x00cf93000000ffffULL; /* 0x18: flat data, read/write */
    uint64_t *pml4 = (uint64_t *) (ram + PML4_ADDR), *pdpt = pml4 + 512, *pd = pml4 + 1024;
    memset(pml4, 0, 6 * 4096);
    pml4[0] = (PML4_ADDR + 0x1000) | 3;
    for (int i = 0; i < 4; i++) {
        pdpt[i] = (PML4_ADDR + 0x2000 + i * 0x1000) | 3;
    }
    for (uint64_t j = 0; j < 4 * 512; j++) {
        pd[j] = (j << 21) | 0x83; /* present, writable, 2 MiB */
    }
    struct kvm_sregs s;
    if (ioctl(vcpu_fd, KVM_GET_SREGS, &s) < 0)
        die(70, "KVM_GET_SREGS: %s", strerror(errno));
    struct kvm_segment code = {.base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 11, .present = 1,
                               .s = 1, .l = 1, .g = 1};
    struct kvm_segment data = code;
    data.selector = 0x18, data.type = 3, data.l = 0, data.db = 1;
    s.cs = code;
    s.ds = s.es = s.fs = s.gs = s.ss = data;
    s.gdt.base = GDT_ADDR, s.gdt.limit = 4 * 8 - 1;
    s.cr3 = PML4_ADDR;
    s.cr4 = 0x20;                       /* PAE */
    s.cr0 = 0x80000033;                 /* PG, NE, ET, MP, PE */
    s.efer = 0x500;                     /* LMA, LME */
    if (ioctl(vcpu_fd, KVM_SET_SREGS, &s) < 0)
        die(70, "KVM_SET_SREGS: %s", strerror(errno));
    struct kvm_regs r = {.rflags = 2, .rip = entry, .rsi = BOOT_PARAMS, .rsp = STACK_TOP};
    if (ioctl(vcpu_fd, KVM_SET_REGS, &r) < 0)
        die(70, "KVM_SET_REGS: %s", strerror(errno));
    /* KVM's CPUID, with the hypervisor bit: without it the guest finds no kvm-clock. */
    struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + 256 * sizeof(struct kvm_cpuid_entry2));
    cpuid->nent = 256;
    if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0)
        die(70, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
    for (unsigned i = 0; i < cpuid->nent; i++) {
        if (cpuid->entries[i].function == 1) {
            cpuid->entries[i].ecx |= 1U << 31;
        }
    }
    if (ioctl(vcpu_fd, KVM_SET_CPUID2, cpuid) < 0)
        die(70, "KVM_SET_CPUID2: %s", strerror(errno));
    free(cpuid);
}

/* A 16550 (no FIFO, so Linux sees a 16450) on 0x3f8, IRQ 4: transmit only, always ready. */
static struct { uint8_t ier, lcr, mcr, scr, dll, dlm, thre_pending, irq; } uart;

static void uart_irq(void) {
    uint8_t level = (uart.ier & 0x02) && uart.thre_pending;
    if (level != uart.irq) {
        struct kvm_irq_level l = {.irq = 4, .level = level};
        if (ioctl(vm_fd, KVM_IRQ_LINE, &l) < 0)
            die(70, "KVM_IRQ_LINE: %s", strerror(errno));
        uart.irq = level;
    }
}

static void uart_out(int off, uint8_t v) {
    int dlab = uart.lcr & 0x80;
    switch (off) {
    case 0:
        if (dlab) {
            uart.dll = v;
        } else {
            while (write(1, &v, 1) < 0 && errno == EINTR) {
            }
            uart.thre_pending = 1; /* the byte left at once: THR empty again */
        }
        break;
    case 1:
        if (dlab) {
            uart.dlm = v;
        } else {
            if ((v & ~uart.ier & 0x02)) {
                uart.thre_pending = 1; /* enabling the THRE interrupt with THR empty raises it */
            }
            uart.ier = v & 0x0f;
        }
        break;
    case 3: uart.lcr = v; break;
    case 4: uart.mcr = v & 0x1f; break;
    case 7: uart.scr = v; break;
    default: break; /* FCR: no FIFO */
    }
    uart_irq();
}

static uint8_t uart_in(int off) {
    int dlab = uart.lcr & 0x80;
    uint8_t v = 0;
    switch (off) {
    case 0: v = dlab ? uart.dll : 0; break;
    case 1: v = dlab ? uart.dlm : uart.ier; break;
    case 2: /* IIR: THRE is the only interrupt there can be; reading it clears it */
        if ((uart.ier & 0x02) && uart.thre_pending) {
            v = 0x02;
            uart.thre_pending = 0;
        } else {
            v = 0x01;
        }
        break;
    case 3: v = uart.lcr; break;
    case 4: v = uart.mcr; break;
    case 5: v = 0x60; break; /* LSR: THR and transmitter empty, no data */
    case 6: /* MSR: in loopback the modem outputs come back, else carrier, DSR and CTS are up */
        v = (uart.mcr & 0x10) ? (uint8_t) ((uart.mcr & 2) << 3 | (uart.mcr & 1) << 5 | (uart.mcr & 0xc) << 4) : 0xb0;
        break;
    case 7: v = uart.scr; break;
    }
    uart_irq();
    return v;
}

static long kib_field(const char *file, const char *name) {
    FILE *f = fopen(file, "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, name, strlen(name)) == 0) {
            v = strtol(line + strlen(name), NULL, 10);
        }
    }
    if (f) {
        fclose(f);
    }
    return v;
}

static void stop(int status, const char *reason) {
    fprintf(stderr, "floorvmm: exit %d %lld %s\n", status, now_ns(), reason);
    size_t pages = ram_size >> 12, resident = 0;
    unsigned char *vec = malloc(pages);
    if (vec && mincore(ram, ram_size, vec) == 0) {
        for (size_t i = 0; i < pages; i++) {
            resident += vec[i] & 1;
        }
    }
    fprintf(stderr, "floorvmm: memory vmhwm-kib=%ld guest-resident-kib=%zu\n", kib_field("/proc/self/status", "VmHWM:"),
            resident * 4);
    exit(status);
}

int main(int argc, char **argv) {
    const char *kernel = NULL, *initrd = NULL, *cmdline = "console=ttyS0";
    long mib = 256;
    int huge = 0, opt;
    while ((opt = getopt(argc, argv, "k:i:c:m:H")) != -1) {
        switch (opt) {
        case 'k': kernel = optarg; break;
        case 'i': initrd = optarg; break;
        case 'c': cmdline = optarg; break;
        case 'm': mib = strtol(optarg, NULL, 10); break;
        case 'H': huge = 1; break;
        default: die(2, "usage: floorvmm -k BZIMAGE [-i INITRD] [-c CMDLINE] [-m MIB] [-H]");
        }
    }
    if (!kernel || optind != argc)
        die(2, "usage: floorvmm -k BZIMAGE [-i INITRD] [-c CMDLINE] [-m MIB] [-H]");
    if (mib < 32 || mib > MAX_MIB)
        die(2, "-m %ld: guest RAM must be 32 to %d MiB", mib, MAX_MIB);
    ram_size = (size_t) mib << 20;
    ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED)
        die(70, "cannot map %ld MiB of guest RAM: %s", mib, strerror(errno));
    if (huge && madvise(ram, ram_size, MADV_HUGEPAGE) < 0)
        die(70, "madvise(MADV_HUGEPAGE): %s", strerror(errno));
    /* Name the platform page on the command line as jvmm does (jvmm.platform=), for the guest's scripts. */
    size_t full_len = strlen(cmdline) + 40;
    char *full = malloc(full_len);
    if (!full)
        die(70, "out of memory");
    snprintf(full, full_len, "%s jvmm.platform=0x%lx", cmdline, PLATFORM_PAGE);
    uint64_t entry = load_linux(kernel, initrd, full);
    int kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm_fd < 0)
        die(70, "cannot open /dev/kvm: %s", strerror(errno));
    vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
    if (vm_fd < 0)
        die(70, "KVM_CREATE_VM: %s", strerror(errno));
    uint64_t identity_map = 0xfffbc000;
    struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
    if (ioctl(vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity_map) < 0 || ioctl(vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0
        || ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0) < 0 || ioctl(vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
        die(70, "VM set-up (identity map, TSS, irqchip, PIT): %s", strerror(errno));
    }
    struct kvm_userspace_memory_region slot = {.slot = 0, .guest_phys_addr = 0, .memory_size = ram_size,
                                               .userspace_addr = (uintptr_t) ram};
    if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
        die(70, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
    int vcpu_fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0);
    int run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (vcpu_fd < 0 || run_size < 0)
        die(70, "KVM_CREATE_VCPU: %s", strerror(errno));
    struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
    if (run == MAP_FAILED)
        die(70, "cannot map the vCPU's kvm_run: %s", strerror(errno));
    setup_vcpu(kvm_fd, vcpu_fd, entry);

    fprintf(stderr, "floorvmm: first-kvm-run %lld\n", now_ns());
    for (;;) {
        if (ioctl(vcpu_fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            die(70, "KVM_RUN: %s", strerror(errno));
        }
        switch (run->exit_reason) {
        case KVM_EXIT_IO: {
            uint8_t *d = (uint8_t *) run + run->io.data_offset;
            for (uint32_t i = 0; i < run->io.count; i++, d += run->io.size) {
                uint16_t port = run->io.port;
                int out = run->io.direction == KVM_EXIT_IO_OUT;
                if (port >= 0x3f8 && port < 0x400 && run->io.size == 1) {
                    if (out) {
                        uart_out(port - 0x3f8, *d);
                    } else {
                        *d = uart_in(port - 0x3f8);
                    }
                } else if (out && ((port == 0x64 && *d == 0xfe) || (port == 0xcf9 && (*d & 4)))) {
                    stop(64, "reset (i8042 or port 0xcf9)");
                } else if (!out) {
                    memset(d, 0xff, run->io.size); /* nothing there */
                }
            }
            break;
        }
        case KVM_EXIT_MMIO:
            if (run->mmio.is_write && run->mmio.phys_addr == PLATFORM_PAGE && run->mmio.data[0] == 123) {
                fprintf(stderr, "floorvmm: boot-timer %lld\n", now_ns());
            } else if (run->mmio.is_write && run->mmio.phys_addr == PLATFORM_PAGE + 0x10) {
                stop(run->mmio.data[0], "exit register");
            } else if (!run->mmio.is_write) {
                memset(run->mmio.data, 0xff, sizeof run->mmio.data);
            }
            break;
        case KVM_EXIT_SHUTDOWN:
            stop(65, "triple fault");
            break;
        case KVM_EXIT_SYSTEM_EVENT:
            stop(run->system_event.type == KVM_SYSTEM_EVENT_RESET ? 64 : 0, "KVM system event (reset or shutdown)");
            break;
        case KVM_EXIT_HLT:
        case KVM_EXIT_INTR:
            break;
        default:
            die(70, "unhandled KVM exit reason %u (internal error suberror %u)", run->exit_reason,
                run->exit_reason == KVM_EXIT_INTERNAL_ERROR ? run->internal.suberror : 0);
        }
    }
}
