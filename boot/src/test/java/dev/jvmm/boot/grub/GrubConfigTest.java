package dev.jvmm.boot.grub;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The configs jvmm meets (its own BOOT partition, Bottlerocket's) and how GRUB picks the entry to boot. */
class GrubConfigTest {
    static final String ROOT_HASH = "7d0ab5b1a0b31a3ce8c1eaa5c2df2a29a77e1c2eb2b4ed33d2f48b6a4a3c0c0f";
    static final String SALT = "a5f3c6a11b03839d46af9fb43c97c188a5f3c6a11b03839d46af9fb43c97c188";
    static final String PART_UUID = "6b1d9f3e-2c4a-4f7e-9d1b-0a2b3c4d5e6f";
    static final Map<String, String> ROOT = Map.of("root", "hd0,gpt3");
    static final Function<String, String> UUIDS = dev -> dev.equals("hd0,gpt3") ? PART_UUID : null;

    /** Exactly what jvmm's image builder writes (ImageBuilder.bottlerocketGrubCfg). */
    static final String JVMM_CFG = """
            # jvmm container OS 1.0.0, Bottlerocket layout (after Bottlerocket's grub.cfg).
            set default="0"
            set timeout="0"
            probe --set boot_uuid --part-uuid $root
            set dm_verity_root="root,,,ro,0 65536 verity 1 PARTUUID=$boot_uuid/PARTNROFF=1 PARTUUID=$boot_uuid/PARTNROFF=2 4096 4096 8192 1 sha256 %s %s 2 restart_on_corruption ignore_zero_blocks"
            menuentry "jvmm container OS 1.0.0" {
               linux ($root)/vmlinuz console=ttyS0 root=/dev/dm-0 rootwait ro raid=noautodetect rootfstype=erofs init=/sbin/init panic=10 dm-mod.create="$dm_verity_root"
            }
            """.formatted(ROOT_HASH, SALT);

    static final String TABLE = "root,,,ro,0 65536 verity 1 PARTUUID=" + PART_UUID + "/PARTNROFF=1 PARTUUID=" + PART_UUID
            + "/PARTNROFF=2 4096 4096 8192 1 sha256 " + ROOT_HASH + " " + SALT + " 2 restart_on_corruption ignore_zero_blocks";

    static GrubEntry entry(String cfg) throws GrubException {
        return GrubConfig.defaultEntry(cfg, ROOT, UUIDS);
    }

    static void assertRefused(String cfg, String... words) {
        GrubException e = assertThrows(GrubException.class, () -> entry(cfg));
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), "message '" + e.getMessage() + "' lacks '" + w + "'");
        }
    }

    @Test
    void jvmmBootPartition() throws Exception {
        List<String> probed = new ArrayList<>();
        GrubEntry e = GrubConfig.defaultEntry(JVMM_CFG, ROOT, dev -> {
            probed.add(dev);
            return UUIDS.apply(dev);
        });
        assertEquals(List.of("hd0,gpt3"), probed);
        assertEquals("jvmm container OS 1.0.0", e.title());
        assertEquals(new GrubFile("(hd0,gpt3)/vmlinuz", "hd0,gpt3", "/vmlinuz"), e.kernel());
        assertEquals(List.of(), e.initrds());
        String args = "console=ttyS0 root=/dev/dm-0 rootwait ro raid=noautodetect rootfstype=erofs init=/sbin/init panic=10";
        assertEquals(args + " \"dm-mod.create=" + TABLE + "\"", e.cmdline());
        assertEquals("BOOT_IMAGE=(hd0,gpt3)/vmlinuz " + e.cmdline(), e.bootImageCmdline());
    }

    @Test
    void theKernelSeesDmModCreateAsOneParameter() throws Exception {
        List<LinuxCmdline.Param> params = LinuxCmdline.parse(entry(JVMM_CFG).bootImageCmdline());
        assertEquals(new LinuxCmdline.Param("BOOT_IMAGE", "(hd0,gpt3)/vmlinuz"), params.get(0));
        assertEquals(new LinuxCmdline.Param("panic", "10"), params.get(params.size() - 2));
        assertEquals(new LinuxCmdline.Param("dm-mod.create", TABLE), params.get(params.size() - 1));
        assertEquals(10, params.size());
    }

    @Test
    void bottlerocketStyleWithContinuationsInitrdAndOptions() throws Exception {
        String cfg = """
                set default="0"
                set timeout="0"
                set dm_verity_root='root,,,ro,0 8 verity 1 PARTUUID=$boot_uuid/PARTNROFF=1'

                menuentry "Bottlerocket OS 1.19.0" --unrestricted {
                   linux (${root})/vmlinuz \\
                       console=tty0 console=ttyS0,115200n8 \\
                       root=/dev/dm-0 rootwait ro \\
                       dm-mod.create="$dm_verity_root" \\
                       -- \\
                       systemd.log_color=0
                   initrd ($root)/initrd.img /extra.cpio
                }
                menuentry "second" { linux /other }
                """;
        GrubEntry e = entry(cfg);
        assertEquals(List.of("console=tty0", "console=ttyS0,115200n8", "root=/dev/dm-0", "rootwait", "ro",
                "dm-mod.create=root,,,ro,0 8 verity 1 PARTUUID=$boot_uuid/PARTNROFF=1", "--", "systemd.log_color=0"), e.kernelArgs());
        assertEquals(List.of(new GrubFile("(hd0,gpt3)/initrd.img", "hd0,gpt3", "/initrd.img"),
                new GrubFile("/extra.cpio", "hd0,gpt3", "/extra.cpio")), e.initrds());
        assertTrue(e.cmdline().contains(" \"dm-mod.create=root,,,ro,0 8 verity 1 PARTUUID=$boot_uuid/PARTNROFF=1\" -- "), e.cmdline());
    }

    static final String MENU = """
            set timeout=0
            menuentry "zero" { linux /zero }
            menuentry "one" --id myone --class os { linux /one }
            submenu "sub" --id s {
              menuentry "in0" { linux /in0 }
              menuentry "in>1" { linux /in1 }
            }
            menuentry "zero" { linux /second-zero }
            """;

    static String pick(String def) throws GrubException {
        GrubEntry e = GrubConfig.defaultEntry(MENU, Map.of("default", def), dev -> null);
        return e.kernel().path() + " " + e.title();
    }

    /** Each expectation was checked against grub-emu 2.06 with echo in place of linux. */
    @Test
    void theDefaultEntryByNumberTitleIdAndSubmenuPath() throws Exception {
        assertEquals("/zero zero", GrubConfig.defaultEntry(MENU, Map.of(), dev -> null).kernel().path() + " zero");
        assertEquals("/zero zero", pick(""));
        assertEquals("/one one", pick("1"));
        assertEquals("/one one", pick(" 1"));
        assertEquals("/one one", pick("0x1"));
        assertEquals("/one one", pick("01"));
        assertEquals("/one one", pick("1abc"));
        assertEquals("/one one", pick("one"));
        assertEquals("/one one", pick("myone"));
        assertEquals("/one one", pick("1>0"));
        assertEquals("/zero zero", pick("zero"));
        assertEquals("/in0 sub>in0", pick("2"));
        assertEquals("/in0 sub>in0", pick("sub"));
        assertEquals("/in0 sub>in0", pick("s>0"));
        assertEquals("/in0 sub>in0", pick("2>"));
        assertEquals("/in1 sub>in>1", pick("2>1"));
        assertEquals("/in1 sub>in>1", pick("sub>in>>1"));
        assertEquals("/second-zero zero", pick("3"));
    }

    @Test
    void aDefaultGrubWouldReplaceWithTheFirstEntryIsRefused() {
        for (String def : List.of("4", "08", "99999999999999999999999")) {
            GrubException e = assertThrows(GrubException.class, () -> pick(def), def);
            assertTrue(e.getMessage().contains("out of range: there are 4 entries"), e.getMessage());
        }
        for (String def : List.of("nomatch", "-1", "sub>nomatch", "0x")) {
            GrubException e = assertThrows(GrubException.class, () -> pick(def), def);
            assertTrue(e.getMessage().contains("matches no menu entry title or id"), e.getMessage());
        }
        GrubException e = assertThrows(GrubException.class, () -> pick("2>5"));
        assertTrue(e.getMessage().contains("default entry 5 in submenu 'sub>' is out of range"), e.getMessage());
    }

    @Test
    void variablesSetAfterTheMenuAreSeenAndSubmenusSeeOnlyExportedOnes() throws Exception {
        String cfg = """
                set default=@D@
                menuentry "top" { linux /k late=$late a=$a b=$b root=$root }
                submenu "sub" { menuentry "in" { linux /k late=$late a=$a b=$b root=$root chosen=$chosen } }
                set late=LATE
                set a=plain
                export b
                set b=exported
                """;
        assertEquals(List.of("late=LATE", "a=plain", "b=exported", "root=hd0,gpt3"), entry(cfg.replace("@D@", "0")).kernelArgs());
        assertEquals(List.of("late=", "a=", "b=exported", "root=hd0,gpt3", "chosen=sub>in"), entry(cfg.replace("@D@", "1")).kernelArgs());
    }

    @Test
    void positionalParametersAreTheEntrysArguments() throws Exception {
        GrubEntry e = entry("menuentry \"t\" x1 'y 2' { linux /k $1 $2 $# \"$@\" $* \"$*\" $0 $9 }\n");
        assertEquals(List.of("t", "x1", "3", "t", "x1", "y 2", "t", "x1", "y", "2", "t x1 y 2"), e.kernelArgs());
        assertEquals(List.of("/k"), List.of(entry("set x=$1$#\nmenuentry t { linux /k$x }").kernel().path()));
    }

    @Test
    void probeForms() throws Exception {
        assertEquals(List.of(PART_UUID), entry("probe --set=u --part-uuid (hd0,gpt3)\nmenuentry t { linux /k $u }").kernelArgs());
        assertEquals(List.of(PART_UUID), entry("probe --part-uuid -s u $root\nmenuentry t { linux /k $u }").kernelArgs());
        assertRefused("probe --set u --part-uuid hd1,gpt9\nmenuentry t { linux /k }", "line 1", "no partition UUID for device hd1,gpt9");
        assertRefused("probe --set u --fs-uuid $root\n", "probe --fs-uuid is not supported");
        assertRefused("probe --set u $root\n", "without --part-uuid");
        assertRefused("probe --set u --part-uuid\n", "names no device");
    }

    @Test
    void linuxAndInitrd() throws Exception {
        GrubEntry e = GrubConfig.defaultEntry("menuentry t { linux /a x; initrd /i1; linux (hd1,gpt2)/b y }", Map.of(), d -> null);
        assertEquals(new GrubFile("(hd1,gpt2)/b", "hd1,gpt2", "/b"), e.kernel());
        assertEquals(List.of("y"), e.kernelArgs());
        assertEquals(List.of(), e.initrds(), "a new linux unloads the initrd");
        assertNull(GrubConfig.defaultEntry("menuentry t { linux /a }", Map.of(), d -> null).kernel().device());
        assertEquals("BOOT_IMAGE=/a", GrubConfig.defaultEntry("menuentry t { linux /a }", Map.of(), d -> null).bootImageCmdline());
        assertRefused("menuentry t { initrd /i; linux /a }", "initrd before any linux command");
        assertRefused("menuentry t { linux }", "linux names no kernel");
        assertRefused("menuentry t { linux vmlinuz }", "not an absolute path");
        assertRefused("menuentry t { linux (hd0/vmlinuz }", "missing ')'");
        assertRefused("menuentry t { echo no kernel }", "line 1", "menu entry 't' has no linux command");
        assertRefused("set default=1\nmenuentry a { linux /a }\nsubmenu s { menuentry in { insmod x } }", "menu entry 's>in' has no linux command");
    }
}
