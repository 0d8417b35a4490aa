package dev.jvmm.devices.serial;

import dev.jvmm.vmm.bus.BusDevice;
import dev.jvmm.vmm.irq.InterruptLine;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * A 16550A UART: all eight registers, the divisor latch, a receive FIFO, loopback, and
 * receive-data and transmit-holding-register-empty interrupts, on an edge-triggered line (a PC's
 * ISA IRQ: a pulse whenever an interrupt is due) or a level-triggered one (a GIC SPI: the line is
 * high exactly while the IIR names an interrupt, as the chip's INTR pin is).
 * Transmitted bytes go straight to the output; the transmitter is always empty, so nothing is
 * held on the way out. Input waits in a bounded buffer; what a guest that stops reading cannot
 * take is dropped and counted, and the host's input thread is never held for good.
 */
public final class Serial16550 implements BusDevice {
    // register offsets
    static final int DATA = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;
    // IER bits
    static final int IER_RDI = 0x01, IER_THRI = 0x02;
    // IIR values
    static final int IIR_NO_INT = 0x01, IIR_THRI = 0x02, IIR_RDI = 0x04, IIR_FIFO_ENABLED = 0xc0;
    // LCR, MCR, LSR, MSR bits
    static final int LCR_DLAB = 0x80;
    static final int MCR_LOOP = 0x10;
    static final int LSR_DR = 0x01, LSR_OE = 0x02, LSR_THRE = 0x20, LSR_TEMT = 0x40;
    static final int MSR_CTS = 0x10, MSR_DSR = 0x20, MSR_RI = 0x40, MSR_DCD = 0x80;
    static final int FCR_ENABLE = 0x01, FCR_CLEAR_RX = 0x02;
    /** Input held for the guest; beyond it, host input waits (see {@link #enqueueInput}). */
    public static final int RX_CAPACITY = 4096;
    /** How long host input waits on a full buffer while the guest reads nothing, before it is dropped. */
    public static final long INPUT_STALL_MILLIS = 1000;

    /** How the interrupt output drives its line. */
    public enum Trigger { EDGE, LEVEL }

    private final InterruptLine irq;
    private final Trigger trigger;
    private boolean lineHigh;
    private final OutputStream out;
    private final ArrayDeque<Byte> rx = new ArrayDeque<>();
    private int ier;
    private int lcr = 0x03; // 8N1
    private int mcr = 0x08; // OUT2
    private int scr;
    private int dll = 0x0c; // 9600 baud
    private int dlm;
    private int fcr;
    private boolean thrEmptyPending;
    private boolean overrun;
    private long bytesOut;
    private long bytesRead;
    private long inputDropped;
    private final long stallMillis;

    public Serial16550(InterruptLine irq, OutputStream out) {
        this(irq, out, Trigger.EDGE);
    }

    public Serial16550(InterruptLine irq, OutputStream out, Trigger trigger) {
        this(irq, out, trigger, INPUT_STALL_MILLIS);
    }

    Serial16550(InterruptLine irq, OutputStream out, long stallMillis) {
        this(irq, out, Trigger.EDGE, stallMillis);
    }

    Serial16550(InterruptLine irq, OutputStream out, Trigger trigger, long stallMillis) {
        this.irq = irq;
        this.trigger = trigger;
        this.out = out;
        this.stallMillis = stallMillis;
    }

    @Override
    public synchronized void read(long offset, byte[] data) {
        Arrays.fill(data, (byte) 0);
        data[0] = (byte) readRegister((int) offset);
        if (trigger == Trigger.LEVEL) {
            updateInterrupt(); // a read of RBR or IIR may have cleared the condition
        }
    }

    @Override
    public synchronized void write(long offset, byte[] data) {
        writeRegister((int) offset, data[0] & 0xff);
        if (trigger == Trigger.LEVEL) {
            updateInterrupt(); // an FCR receive clear, say, ends a pending interrupt
        }
    }

    private int readRegister(int reg) {
        boolean dlab = (lcr & LCR_DLAB) != 0;
        switch (reg) {
            case DATA -> {
                if (dlab) {
                    return dll;
                }
                Byte b = rx.poll();
                if (b != null) {
                    bytesRead++;
                }
                if (rx.isEmpty()) {
                    notifyAll(); // room for waiting input
                }
                return b == null ? 0 : b & 0xff;
            }
            case IER -> {
                return dlab ? dlm : ier;
            }
            case IIR_FCR -> {
                int iir = currentIir();
                if (iir == IIR_THRI) {
                    thrEmptyPending = false; // reading IIR acknowledges THRE
                }
                return iir | ((fcr & FCR_ENABLE) != 0 ? IIR_FIFO_ENABLED : 0);
            }
            case LCR -> {
                return lcr;
            }
            case MCR -> {
                return mcr;
            }
            case LSR -> {
                int lsr = LSR_THRE | LSR_TEMT | (rx.isEmpty() ? 0 : LSR_DR) | (overrun ? LSR_OE : 0);
                overrun = false;
                return lsr;
            }
            case MSR -> {
                if ((mcr & MCR_LOOP) != 0) {
                    // Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD.
                    return ((mcr & 0x01) << 5) | ((mcr & 0x02) << 3) | ((mcr & 0x04) << 4) | ((mcr & 0x08) << 4);
                }
                return MSR_DCD | MSR_DSR | MSR_CTS;
            }
            case SCR -> {
                return scr;
            }
            default -> {
                return 0;
            }
        }
    }

    private void writeRegister(int reg, int v) {
        boolean dlab = (lcr & LCR_DLAB) != 0;
        switch (reg) {
            case DATA -> {
                if (dlab) {
                    dll = v;
                } else if ((mcr & MCR_LOOP) != 0) {
                    receive(v);
                    transmitted();
                } else {
                    try {
                        out.write(v);
                        bytesOut++;
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    transmitted();
                }
            }
            case IER -> {
                if (dlab) {
                    dlm = v;
                } else {
                    int old = ier;
                    ier = v & 0x0f;
                    // A real 16550 raises THRE as soon as the interrupt is enabled with an empty THR.
                    if ((ier & IER_THRI) != 0 && (old & IER_THRI) == 0) {
                        thrEmptyPending = true;
                    }
                    updateInterrupt();
                }
            }
            case IIR_FCR -> {
                fcr = v & 0xc9;
                if ((v & FCR_CLEAR_RX) != 0) {
                    rx.clear();
                    notifyAll();
                }
            }
            case LCR -> lcr = v;
            case MCR -> mcr = v & 0x1f;
            case SCR -> scr = v;
            default -> { } // LSR and MSR are read-only
        }
    }

    private void transmitted() {
        if ((ier & IER_THRI) != 0) {
            thrEmptyPending = true;
            updateInterrupt();
        }
    }

    private void receive(int v) {
        if (rx.size() >= RX_CAPACITY) {
            overrun = true;
            inputDropped++;
            return;
        }
        rx.add((byte) v);
        updateInterrupt();
    }

    private int currentIir() {
        if ((ier & IER_RDI) != 0 && !rx.isEmpty()) {
            return IIR_RDI;
        }
        if ((ier & IER_THRI) != 0 && thrEmptyPending) {
            return IIR_THRI;
        }
        return IIR_NO_INT;
    }

    private void updateInterrupt() {
        boolean due = currentIir() != IIR_NO_INT;
        if (trigger == Trigger.EDGE) {
            if (due) {
                irq.pulse();
            }
        } else if (due != lineHigh) {
            lineHigh = due;
            irq.setLevel(due);
        }
    }

    /**
     * Host input for the guest. Waits while the receive buffer is full and the guest keeps
     * reading, so pasted text is not lost; once the guest has read nothing for
     * {@link #INPUT_STALL_MILLIS}, the rest is dropped (counted, and an overrun in LSR) and this
     * returns, so the caller can go on reading its own input (Ctrl-A x). Returns false only if
     * interrupted.
     */
    public synchronized boolean enqueueInput(byte[] data, int len) {
        long stallNanos = stallMillis * 1_000_000L;
        long deadline = System.nanoTime() + stallNanos;
        for (int i = 0; i < len; i++) {
            while (rx.size() >= RX_CAPACITY) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    inputDropped += len - i;
                    overrun = true;
                    updateInterrupt();
                    return true;
                }
                long readBefore = bytesRead;
                try {
                    wait(Math.max(1, Math.min(50, left / 1_000_000L)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
                if (bytesRead != readBefore) {
                    deadline = System.nanoTime() + stallNanos; // the guest is reading: keep waiting
                }
            }
            rx.add(data[i]);
        }
        updateInterrupt();
        return true;
    }

    /** Input bytes the guest never got because it stopped reading (host input and loopback). */
    public synchronized long inputDropped() {
        return inputDropped;
    }

    public synchronized long bytesOut() {
        return bytesOut;
    }

    public synchronized int pendingInput() {
        return rx.size();
    }
}
