package dev.jvmm.devices.virtio.rng;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The host kernel's entropy, read from /dev/urandom, opened at the guest's first request. A
 * SecureRandom made at VM set-up loaded the security providers and seeded a mixing generator
 * (about 0.9 s in the lab, where everything is emulated) for bytes the kernel hands out anyway.
 */
public final class Urandom implements RngDevice.Entropy {
    private InputStream in;

    @Override
    public synchronized void fill(byte[] bytes) {
        try {
            if (in == null) {
                in = new FileInputStream("/dev/urandom");
            }
            int n = in.readNBytes(bytes, 0, bytes.length);
            if (n != bytes.length) {
                throw new IOException("/dev/urandom ended after " + n + " of " + bytes.length + " bytes");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading /dev/urandom", e);
        }
    }
}
