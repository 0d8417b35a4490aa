package dev.jvmm.devices.power;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class AcpiPowerDeviceTest {
    @Test
    void s5PowersOffResetValueResetsAndStatusClearsAreIgnored() {
        List<String> events = new ArrayList<>();
        AcpiPowerDevice dev = new AcpiPowerDevice(5, 1, () -> events.add("off"), () -> events.add("reset"));
        dev.write(0, new byte[] {(byte) 0x80});              // WAK_STS clear before sleeping
        dev.write(0, new byte[] {(byte) (5 << 2)});          // SLP_TYP without SLP_EN
        dev.write(0, new byte[] {(byte) ((3 << 2) | 0x20)}); // S3 is not supported
        dev.write(0, new byte[] {(byte) ((5 << 2) | 0x20)});
        dev.write(0, new byte[] {1});
        assertEquals(List.of("off", "reset"), events);
    }
}
