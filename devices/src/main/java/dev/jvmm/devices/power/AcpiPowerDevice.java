package dev.jvmm.devices.power;

import dev.jvmm.vmm.bus.BusDevice;

/**
 * The one-byte I/O register the FADT names as sleep control, sleep status and reset register
 * (hardware-reduced ACPI). Writing SLP_EN with SLP_TYP 5 (S5) powers off; writing the reset
 * value resets. Reads return 0: no wake status.
 */
public final class AcpiPowerDevice implements BusDevice {
    static final int SLP_EN = 1 << 5;
    private final int s5SleepType;
    private final int resetValue;
    private final Runnable powerOff;
    private final Runnable reset;

    public AcpiPowerDevice(int s5SleepType, int resetValue, Runnable powerOff, Runnable reset) {
        this.s5SleepType = s5SleepType;
        this.resetValue = resetValue;
        this.powerOff = powerOff;
        this.reset = reset;
    }

    @Override
    public void read(long offset, byte[] data) {
        java.util.Arrays.fill(data, (byte) 0);
    }

    @Override
    public void write(long offset, byte[] data) {
        int v = data[0] & 0xff;
        if ((v & SLP_EN) != 0 && ((v >> 2) & 0x7) == s5SleepType) {
            powerOff.run();
        } else if (v == resetValue) {
            reset.run();
        }
        // Anything else, e.g. the WAK_STS clear (0x80) before sleeping, needs no action.
    }
}
