package dev.jvmm.devices.i8042;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class I8042Test {
    int resets;
    final I8042 kbc = new I8042(() -> resets++);

    int in(int off) {
        byte[] b = new byte[1];
        kbc.read(off, b);
        return b[0] & 0xff;
    }

    void out(int off, int v) {
        kbc.write(off, new byte[] {(byte) v});
    }

    @Test
    void linuxProbeSequencePasses() {
        assertEquals(0, in(I8042.COMMAND) & I8042.STATUS_OBF, "nothing to read at first");
        out(I8042.COMMAND, I8042.CMD_SELF_TEST);
        assertEquals(I8042.STATUS_OBF, in(I8042.COMMAND) & I8042.STATUS_OBF);
        assertEquals(0x55, in(I8042.DATA));
        out(I8042.COMMAND, I8042.CMD_READ_CTR);
        int ctr = in(I8042.DATA);
        out(I8042.COMMAND, I8042.CMD_WRITE_CTR);
        out(I8042.DATA, ctr & ~0x01);
        out(I8042.COMMAND, I8042.CMD_READ_CTR);
        assertEquals(ctr & ~0x01, in(I8042.DATA));
        out(I8042.COMMAND, I8042.CMD_TEST_KBD);
        assertEquals(0x00, in(I8042.DATA));
        assertEquals(I8042.STATUS_KEYLOCK, in(I8042.COMMAND) & I8042.STATUS_KEYLOCK, "keyboard not inhibited");
        assertEquals(0, resets);
    }

    @Test
    void resetCommandAndOutputPortResetTheMachine() {
        out(I8042.COMMAND, I8042.CMD_RESET);
        assertEquals(1, resets);
        out(I8042.COMMAND, I8042.CMD_WRITE_OUTP);
        out(I8042.DATA, 0xfe);
        assertEquals(2, resets);
    }

    @Test
    void outputQueueIsCappedWhenTheGuestNeverReads() {
        for (int i = 0; i < 1_000_000; i++) {
            out(I8042.DATA, 0xf4); // keyboard command: each one queues an ACK
        }
        assertEquals(I8042.OUTPUT_CAPACITY, kbc.pendingOutput());
        assertEquals(1_000_000 - I8042.OUTPUT_CAPACITY, kbc.outputDropped());
        out(I8042.COMMAND, I8042.CMD_SELF_TEST); // dropped too: the queue is still full
        for (int i = 0; i < I8042.OUTPUT_CAPACITY; i++) {
            assertEquals(0xfa, in(I8042.DATA));
        }
        assertEquals(0, in(I8042.COMMAND) & I8042.STATUS_OBF, "drained");
        out(I8042.COMMAND, I8042.CMD_SELF_TEST);
        assertEquals(0x55, in(I8042.DATA), "works again once read");
    }

    @Test
    void everyCommandThenEveryDataByteAtEveryWidthStaysBounded() {
        int[] widths = {1, 2, 4};
        int accesses = 0;
        for (int cmd = 0; cmd < 256; cmd++) {
            for (int v = 0; v < 256; v++) {
                for (int w : widths) {
                    byte[] b = new byte[w];
                    b[0] = (byte) cmd;
                    kbc.write(I8042.COMMAND, b);
                    b[0] = (byte) v;
                    kbc.write(I8042.DATA, b);
                    for (int off = 0; off <= I8042.COMMAND; off++) {
                        kbc.read(off, new byte[w]);
                    }
                    accesses += 2 + I8042.COMMAND + 1;
                    assertTrue(kbc.pendingOutput() <= I8042.OUTPUT_CAPACITY);
                }
            }
        }
        assertEquals(256 * 256 * widths.length * 7, accesses);
        assertTrue(resets > 0, "0xfe and a cleared output-port bit 0 reset the machine");
    }
}
