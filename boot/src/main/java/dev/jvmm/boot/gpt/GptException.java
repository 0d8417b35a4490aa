package dev.jvmm.boot.gpt;

/** A disk image whose GPT is missing, damaged or inconsistent; the message names the problem. */
public final class GptException extends Exception {
    public GptException(String message) {
        super(message);
    }
}
