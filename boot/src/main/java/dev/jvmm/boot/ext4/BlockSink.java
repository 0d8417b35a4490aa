package dev.jvmm.boot.ext4;

import java.io.IOException;

/** Receives a file's mapped blocks, in increasing logical order, from an extent tree or a block map walk. */
interface BlockSink {
    void run(long logical, long physical, long count) throws IOException, Ext4Exception;
}
