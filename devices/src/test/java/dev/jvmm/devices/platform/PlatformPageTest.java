package dev.jvmm.devices.platform;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PlatformPageTest {
    @Test
    void bootTimerAndExitRegister() {
        List<String> events = new ArrayList<>();
        PlatformPage page = new PlatformPage(new PlatformPage.Events() {
            @Override
            public void guestReady() {
                events.add("ready");
            }

            @Override
            public void exitRequested(int status) {
                events.add("exit " + status);
            }
        });
        page.write(PlatformPage.BOOT_TIMER, new byte[] {12}); // not the magic value
        page.write(PlatformPage.BOOT_TIMER, new byte[] {(byte) PlatformPage.BOOT_TIMER_MAGIC});
        page.write(PlatformPage.EXIT_REGISTER, new byte[] {(byte) 200});
        page.write(0x20, new byte[] {1});
        byte[] r = new byte[4];
        page.read(PlatformPage.EXIT_REGISTER, r);
        assertEquals(List.of("ready", "exit 200"), events);
        assertEquals(0, r[0]);
    }
}
