package dev.jvmm.devices.i8042;

import dev.jvmm.vmm.bus.BusDevice;

import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * Enough of the PS/2 controller for Linux's probe (self-test, configuration byte, interface
 * test) and for the reset command 0xFE, which is how `reboot=k` guests restart. Sits at 0x60
 * (data, offset 0) and 0x64 (status and command, offset 4). The output queue is bounded (a real
 * 8042 holds one byte): a guest that writes without reading loses the excess, counted.
 */
public final class I8042 implements BusDevice {
    static final int DATA = 0, COMMAND = 4;
    static final int STATUS_OBF = 0x01, STATUS_SYS = 0x04, STATUS_CMD = 0x08, STATUS_KEYLOCK = 0x10;
    static final int CMD_READ_CTR = 0x20, CMD_WRITE_CTR = 0x60, CMD_DISABLE_AUX = 0xa7, CMD_ENABLE_AUX = 0xa8,
            CMD_TEST_AUX = 0xa9, CMD_SELF_TEST = 0xaa, CMD_TEST_KBD = 0xab, CMD_DISABLE_KBD = 0xad,
            CMD_ENABLE_KBD = 0xae, CMD_READ_OUTP = 0xd0, CMD_WRITE_OUTP = 0xd1, CMD_WRITE_AUX = 0xd4, CMD_RESET = 0xfe;
    /** Replies held for the guest; Linux's probe never has more than one outstanding. */
    public static final int OUTPUT_CAPACITY = 16;

    private final Runnable resetRequested;
    private final ArrayDeque<Integer> output = new ArrayDeque<>();
    private int ctr = 0x47; // kbd interrupt, system flag, translation
    private int pendingCommand = -1;
    private int outp = 0x01;
    private int lastCommandWasCommandPort;
    private long outputDropped;

    public I8042(Runnable resetRequested) {
        this.resetRequested = resetRequested;
    }

    @Override
    public synchronized void read(long offset, byte[] data) {
        Arrays.fill(data, (byte) 0);
        if (offset == DATA) {
            Integer v = output.poll();
            data[0] = (byte) (v == null ? 0 : v);
        } else if (offset == COMMAND) {
            // KEYLOCK set means the keyboard is not inhibited (Linux warns "Keylock active" otherwise).
            data[0] = (byte) ((output.isEmpty() ? 0 : STATUS_OBF) | STATUS_SYS | STATUS_KEYLOCK | lastCommandWasCommandPort);
        }
    }

    @Override
    public synchronized void write(long offset, byte[] data) {
        int v = data[0] & 0xff;
        if (offset == COMMAND) {
            lastCommandWasCommandPort = STATUS_CMD;
            command(v);
        } else if (offset == DATA) {
            lastCommandWasCommandPort = 0;
            if (pendingCommand == CMD_WRITE_CTR) {
                ctr = v;
            } else if (pendingCommand == CMD_WRITE_OUTP) {
                outp = v;
                if ((v & 0x01) == 0) {
                    resetRequested.run(); // clearing the reset line resets the CPU
                }
            } else if (pendingCommand == CMD_WRITE_AUX) {
                reply(0xfe); // no mouse: resend
            } else {
                reply(0xfa); // keyboard command: ACK, there is no keyboard behind it
            }
            pendingCommand = -1;
        }
    }

    private void reply(int v) {
        if (output.size() >= OUTPUT_CAPACITY) {
            outputDropped++; // the guest is not reading: drop, never grow
            return;
        }
        output.add(v);
    }

    /** Replies dropped because the output queue was full. */
    public synchronized long outputDropped() {
        return outputDropped;
    }

    /** Replies waiting for the guest to read them. */
    public synchronized int pendingOutput() {
        return output.size();
    }

    private void command(int cmd) {
        switch (cmd) {
            case CMD_READ_CTR -> reply(ctr);
            case CMD_WRITE_CTR, CMD_WRITE_OUTP, CMD_WRITE_AUX -> pendingCommand = cmd;
            case CMD_SELF_TEST -> reply(0x55);
            case CMD_TEST_KBD -> reply(0x00);
            case CMD_TEST_AUX -> reply(0xff); // no aux port
            case CMD_READ_OUTP -> reply(outp);
            case CMD_DISABLE_KBD -> ctr |= 0x10;
            case CMD_ENABLE_KBD -> ctr &= ~0x10;
            case CMD_DISABLE_AUX -> ctr |= 0x20;
            case CMD_ENABLE_AUX -> ctr &= ~0x20;
            case CMD_RESET -> resetRequested.run();
            default -> { } // unknown commands are ignored, as by many real controllers
        }
    }
}
