# jvmm's stub guest for `jvmm bench boot --stub` (dev.jvmm.bootbench.StubGuest holds its bytes;
# StubGuestTest assembles this file with GNU as and compares). A few hundred instructions at
# guest CPL0: what PVM's /dev/kvm emulates, so the VMM's own start, set-up and teardown can be
# timed on a host whose KVM cannot run Linux. Entered as an x86_64 vmlinux is: long mode, the
# first 1 GiB identity-mapped, rsi = the zero page. No stack is used.
#
# 1. Finds "jvmm.platform=0x<hex>" on the command line (zero page + 0x228: cmd_line_ptr).
# 2. Maps that page's 2 MiB (uncached) into the entry page tables, which cover 1 GiB only.
# 3. Prints the bench's ready line on COM1, writes 123 to the boot timer (page + 0), prints the
#    stopping line and writes 0 to the exit register (page + 0x10); without a platform page (or
#    should the VMM let it run on) it asks the i8042 for a reset, then halts.
#
# as --64 stub-guest.S -o stub.o && objcopy -O binary -j .text stub.o stub.bin; the bytes up to
# `end` are the code; `pd` (the page directory it fills) is the page after, zeroed by the loader.
        .intel_syntax noprefix
        .code64
        .text
        .globl _start
_start:
        cld
        mov     edi, dword ptr [rsi + 0x228]
        xor     r8d, r8d
        lea     rbx, [rip + key]
find:
        xor     ecx, ecx
match:
        mov     al, byte ptr [rbx + rcx]
        test    al, al
        jz      parse
        cmp     al, byte ptr [rdi + rcx]
        jne     advance
        inc     ecx
        jmp     match
advance:
        cmp     byte ptr [rdi], 0
        je      report
        inc     rdi
        jmp     find
parse:
        add     rdi, rcx
digit:
        movzx   eax, byte ptr [rdi]
        lea     edx, [rax - 0x30]
        cmp     edx, 9
        jbe     add_digit
        or      eax, 0x20
        lea     edx, [rax - 0x61]
        cmp     edx, 5
        ja      map
        add     edx, 10
add_digit:
        shl     r8, 4
        or      r8, rdx
        inc     rdi
        jmp     digit
map:
        mov     rax, r8
        shr     rax, 30
        jz      report
        and     eax, 511
        mov     rdx, cr3
        and     rdx, -4096
        mov     rdx, qword ptr [rdx]
        and     rdx, -4096
        lea     rcx, [rip + pd]
        or      rcx, 3
        mov     qword ptr [rdx + rax*8], rcx
        mov     rax, r8
        shr     rax, 21
        and     eax, 511
        mov     rcx, r8
        and     rcx, -0x200000
        or      rcx, 0x9b
        lea     rdx, [rip + pd]
        mov     qword ptr [rdx + rax*8], rcx
        mov     rax, cr3
        mov     cr3, rax
report:
        lea     rsi, [rip + ready]
        lea     r9, [rip + ready_sent]
        jmp     puts
ready_sent:
        test    r8, r8
        jz      reset
        mov     byte ptr [r8], 123
        lea     rsi, [rip + stopping]
        lea     r9, [rip + stopping_sent]
        jmp     puts
stopping_sent:
        mov     byte ptr [r8 + 0x10], 0
reset:
        mov     al, 0xfe
        out     0x64, al
halt:
        hlt
        jmp     halt
puts:
        mov     dx, 0x3f8
next_char:
        lodsb
        test    al, al
        jz      sent
        out     dx, al
        jmp     next_char
sent:
        jmp     r9
key:
        .asciz  "jvmm.platform=0x"
ready:
        .asciz  "jvmm-bench: ready\n"
stopping:
        .asciz  "jvmm-bench: stopping\n"
end:
        .balign 4096, 0
pd:
