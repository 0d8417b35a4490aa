package dev.jvmm.devices.serial;

import dev.jvmm.vmm.irq.InterruptLine;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Serial16550Test {
    /** Counts rising edges, as an edge-triggered IOAPIC pin would see them. */
    static final class FakeLine implements InterruptLine {
        int edges;
        boolean level;

        @Override
        public void setLevel(boolean asserted) {
            if (asserted && !level) {
                edges++;
            }
            level = asserted;
        }
    }

    FakeLine irq;
    ByteArrayOutputStream out;
    Serial16550 uart;

    @BeforeEach
    void setUp() {
        irq = new FakeLine();
        out = new ByteArrayOutputStream();
        uart = new Serial16550(irq, out);
    }

    int in(int reg) {
        byte[] b = new byte[1];
        uart.read(reg, b);
        return b[0] & 0xff;
    }

    void outb(int reg, int v) {
        uart.write(reg, new byte[] {(byte) v});
    }

    @Test
    void transmitsToTheOutput() {
        for (byte b : "hi\n".getBytes(StandardCharsets.US_ASCII)) {
            outb(Serial16550.DATA, b);
        }
        assertEquals("hi\n", out.toString(StandardCharsets.US_ASCII));
        assertEquals(3, uart.bytesOut());
        assertEquals(Serial16550.LSR_THRE | Serial16550.LSR_TEMT, in(Serial16550.LSR), "transmitter always empty");
    }

    @Test
    void divisorLatchSharesDataAndIerOffsets() {
        outb(Serial16550.LCR, 0x83);
        outb(Serial16550.DATA, 0x01);
        outb(Serial16550.IER, 0x00);
        assertEquals(0x01, in(Serial16550.DATA));
        assertEquals(0x00, in(Serial16550.IER));
        outb(Serial16550.LCR, 0x03);
        assertEquals(0, out.size(), "a divisor write is not output");
        assertEquals(0x03, in(Serial16550.LCR));
        outb(Serial16550.SCR, 0x5a);
        assertEquals(0x5a, in(Serial16550.SCR));
    }

    @Test
    void enablingThreInterruptRaisesItAndReadingIirClearsIt() {
        assertEquals(Serial16550.IIR_NO_INT, in(Serial16550.IIR_FCR) & 0x0f);
        outb(Serial16550.IER, Serial16550.IER_THRI);
        assertEquals(1, irq.edges);
        assertEquals(Serial16550.IIR_THRI, in(Serial16550.IIR_FCR) & 0x0f);
        assertEquals(Serial16550.IIR_NO_INT, in(Serial16550.IIR_FCR) & 0x0f, "acknowledged by the read");
        outb(Serial16550.DATA, 'x');
        assertEquals(2, irq.edges, "each transmitted byte empties the THR again");
        assertEquals(Serial16550.IIR_THRI, in(Serial16550.IIR_FCR) & 0x0f);
    }

    @Test
    void receivedBytesRaiseDataAvailableWithPriorityOverThre() {
        outb(Serial16550.IER, Serial16550.IER_RDI | Serial16550.IER_THRI);
        int before = irq.edges;
        assertTrue(uart.enqueueInput("ab".getBytes(StandardCharsets.US_ASCII), 2));
        assertTrue(irq.edges > before);
        assertEquals(Serial16550.IIR_RDI, in(Serial16550.IIR_FCR) & 0x0f);
        assertEquals(Serial16550.LSR_DR, in(Serial16550.LSR) & Serial16550.LSR_DR);
        assertEquals('a', in(Serial16550.DATA));
        assertEquals('b', in(Serial16550.DATA));
        assertEquals(0, in(Serial16550.LSR) & Serial16550.LSR_DR);
        assertEquals(Serial16550.IIR_THRI, in(Serial16550.IIR_FCR) & 0x0f, "THRE still pending underneath");
    }

    @Test
    void fifoEnableShowsInIirAndClearDropsInput() {
        uart.enqueueInput(new byte[] {1, 2, 3}, 3);
        outb(Serial16550.IIR_FCR, Serial16550.FCR_ENABLE | Serial16550.FCR_CLEAR_RX);
        assertEquals(Serial16550.IIR_FIFO_ENABLED, in(Serial16550.IIR_FCR) & 0xc0);
        assertEquals(0, uart.pendingInput());
    }

    @Test
    void loopbackEchoesAndReflectsModemLines() {
        outb(Serial16550.MCR, Serial16550.MCR_LOOP | 0x0f);
        outb(Serial16550.DATA, 0x41);
        assertEquals(0, out.size(), "loopback keeps bytes off the wire");
        assertEquals(0x41, in(Serial16550.DATA));
        assertEquals(Serial16550.MSR_CTS | Serial16550.MSR_DSR | Serial16550.MSR_RI | Serial16550.MSR_DCD,
                in(Serial16550.MSR));
        outb(Serial16550.MCR, 0x08);
        assertEquals(Serial16550.MSR_CTS | Serial16550.MSR_DSR | Serial16550.MSR_DCD, in(Serial16550.MSR));
    }

    @Test
    void overrunIsReportedOnceWhenTheGuestDoesNotRead() {
        outb(Serial16550.MCR, Serial16550.MCR_LOOP);
        for (int i = 0; i <= Serial16550.RX_CAPACITY; i++) {
            outb(Serial16550.DATA, i);
        }
        assertEquals(Serial16550.LSR_OE, in(Serial16550.LSR) & Serial16550.LSR_OE);
        assertEquals(0, in(Serial16550.LSR) & Serial16550.LSR_OE);
    }

    @Test
    void hostInputIsCappedAndDroppedWhenTheGuestStopsReading() {
        uart = new Serial16550(irq, out, 0); // no grace: a guest that does not read loses the excess at once
        byte[] chunk = new byte[1024];
        for (int i = 0; i < 10; i++) {
            assertTrue(uart.enqueueInput(chunk, chunk.length), "the caller goes on (Ctrl-A x keeps working)");
        }
        assertEquals(Serial16550.RX_CAPACITY, uart.pendingInput());
        assertEquals(10 * 1024 - Serial16550.RX_CAPACITY, uart.inputDropped());
        assertEquals(Serial16550.LSR_OE, in(Serial16550.LSR) & Serial16550.LSR_OE, "the guest sees an overrun");
    }

    @Test
    void hostInputWaitsForAGuestThatKeepsReading() throws Exception {
        uart = new Serial16550(irq, out, 60_000);
        byte[] paste = new byte[3 * Serial16550.RX_CAPACITY];
        for (int i = 0; i < paste.length; i++) {
            paste[i] = (byte) i;
        }
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        Thread guest = new Thread(() -> {
            while (got.size() < paste.length) {
                if ((in(Serial16550.LSR) & Serial16550.LSR_DR) != 0) {
                    got.write(in(Serial16550.DATA));
                } else {
                    Thread.onSpinWait();
                }
            }
        });
        guest.start();
        assertTrue(uart.enqueueInput(paste, paste.length));
        guest.join();
        assertArrayEquals(paste, got.toByteArray(), "nothing lost while the guest reads");
        assertEquals(0, uart.inputDropped());
    }

    @Test
    void loopbackOverrunIsCounted() {
        outb(Serial16550.MCR, Serial16550.MCR_LOOP);
        for (int i = 0; i < Serial16550.RX_CAPACITY + 5; i++) {
            outb(Serial16550.DATA, i);
        }
        assertEquals(Serial16550.RX_CAPACITY, uart.pendingInput());
        assertEquals(5, uart.inputDropped());
    }

    @Test
    void everyRegisterAndValueAtEveryWidthStaysBounded() {
        uart = new Serial16550(irq, OutputStream.nullOutputStream(), 0);
        int[] widths = {1, 2, 4};
        for (int round = 0; round < 2; round++) {
            for (int reg = 0; reg < 8; reg++) {
                for (int v = 0; v < 256; v++) {
                    for (int w : widths) {
                        byte[] b = new byte[w];
                        b[0] = (byte) v;
                        uart.write(reg, b);
                        for (int r = 0; r < 8; r++) {
                            uart.read(r, new byte[w]);
                        }
                        assertTrue(uart.pendingInput() <= Serial16550.RX_CAPACITY);
                    }
                }
            }
            // Second round: loopback on and nobody reading data, so the FIFO fills.
            outb(Serial16550.LCR, 0x03); // the divisor latch off, so DATA is data
            outb(Serial16550.MCR, Serial16550.MCR_LOOP);
            for (int i = 0; i < 2 * Serial16550.RX_CAPACITY; i++) {
                outb(Serial16550.DATA, i);
            }
            assertEquals(Serial16550.RX_CAPACITY, uart.pendingInput());
        }
        assertTrue(uart.enqueueInput(new byte[100], 100), "host input still returns");
    }

    /** A level line (a GIC SPI): high exactly while the IIR names an interrupt, with no toggling in between. */
    @Test
    void aLevelLineFollowsTheInterruptCondition() {
        FakeLine line = new FakeLine();
        Serial16550 u = new Serial16550(line, out, Serial16550.Trigger.LEVEL);
        byte[] b = new byte[1];
        u.write(Serial16550.IER, new byte[] {Serial16550.IER_RDI});
        assertEquals(false, line.level, "nothing received: low");
        u.enqueueInput("ab".getBytes(StandardCharsets.US_ASCII), 2);
        assertTrue(line.level, "data ready: high");
        u.read(Serial16550.DATA, b);
        assertTrue(line.level, "one byte still waits: still high");
        assertEquals(1, line.edges, "held high, not pulsed again");
        u.read(Serial16550.DATA, b);
        assertEquals('b', b[0]);
        assertEquals(false, line.level, "the receive buffer drained: low");

        u.write(Serial16550.IER, new byte[] {Serial16550.IER_THRI});
        assertTrue(line.level, "THRE on enabling the interrupt with an empty transmitter");
        u.read(Serial16550.IIR_FCR, b);
        assertEquals(Serial16550.IIR_THRI, b[0] & 0x0f);
        assertEquals(false, line.level, "reading the IIR acknowledges THRE");
        u.write(Serial16550.DATA, new byte[] {'x'});
        assertTrue(line.level, "transmitted: THRE again");
        u.write(Serial16550.IER, new byte[] {0});
        assertEquals(false, line.level, "interrupts disabled: low");

        u.write(Serial16550.IER, new byte[] {Serial16550.IER_RDI});
        u.enqueueInput(new byte[] {'z'}, 1);
        assertTrue(line.level);
        u.write(Serial16550.IIR_FCR, new byte[] {Serial16550.FCR_ENABLE | Serial16550.FCR_CLEAR_RX});
        assertEquals(false, line.level, "clearing the receive FIFO ends the interrupt");
        assertEquals(4, line.edges, "one rising edge per interrupt");
    }
}
