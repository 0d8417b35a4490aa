package dev.jvmm.devices.virtio.vsock;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** The 44-byte virtio-vsock packet header (virtio 1.2, 5.10.6), little-endian. */
public record VsockPacket(long srcCid, long dstCid, int srcPort, int dstPort, int len, int type, int op, int flags,
                          int bufAlloc, int fwdCnt) {
    public static final int HEADER_SIZE = 44;
    public static final int TYPE_STREAM = 1;
    public static final int OP_REQUEST = 1;
    public static final int OP_RESPONSE = 2;
    public static final int OP_RST = 3;
    public static final int OP_SHUTDOWN = 4;
    public static final int OP_RW = 5;
    public static final int OP_CREDIT_UPDATE = 6;
    public static final int OP_CREDIT_REQUEST = 7;
    public static final int SHUTDOWN_RCV = 1;
    public static final int SHUTDOWN_SEND = 2;

    public static VsockPacket decode(byte[] h) {
        ByteBuffer b = ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN);
        return new VsockPacket(b.getLong(0), b.getLong(8), b.getInt(16), b.getInt(20), b.getInt(24), b.getShort(28) & 0xffff,
                b.getShort(30) & 0xffff, b.getInt(32), b.getInt(36), b.getInt(40));
    }

    public byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, srcCid).putLong(8, dstCid).putInt(16, srcPort).putInt(20, dstPort).putInt(24, len)
                .putShort(28, (short) type).putShort(30, (short) op).putInt(32, flags).putInt(36, bufAlloc).putInt(40, fwdCnt);
        return b.array();
    }

    public static String opName(int op) {
        return switch (op) {
            case OP_REQUEST -> "REQUEST";
            case OP_RESPONSE -> "RESPONSE";
            case OP_RST -> "RST";
            case OP_SHUTDOWN -> "SHUTDOWN";
            case OP_RW -> "RW";
            case OP_CREDIT_UPDATE -> "CREDIT_UPDATE";
            case OP_CREDIT_REQUEST -> "CREDIT_REQUEST";
            default -> "op " + op;
        };
    }
}
