package dev.jvmm.vmm.memory;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A set-up step on its own thread: its outcome is taken by await, and close waits for it. */
class SetupStepTest {
    @Test
    void anOverlappedStepRunsOnItsOwnThreadAndAwaitWaitsForIt() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<String> ranOn = new AtomicReference<>();
        AtomicReference<Boolean> finished = new AtomicReference<>(false);
        SetupStep<RuntimeException> step = SetupStep.start("memory-slots", true, () -> {
            ranOn.set(Thread.currentThread().getName());
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            finished.set(true);
        });
        assertEquals(false, finished.get(), "start did not wait for it");
        release.countDown();
        step.await();
        assertEquals("memory-slots", ranOn.get());
        assertEquals(true, finished.get(), "await did");
    }

    @Test
    void withoutOverlapTheStepHasRunWhenStartReturns() {
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        SetupStep<RuntimeException> step = SetupStep.start("memory-slots", false, () -> ranOn.set(Thread.currentThread()));
        assertSame(Thread.currentThread(), ranOn.get());
        step.await();
    }

    @Test
    void whatAnOverlappedStepThrewIsThrownByAwait() {
        IllegalArgumentException thrown = new IllegalArgumentException("KVM_SET_USER_MEMORY_REGION: EINVAL");
        SetupStep<RuntimeException> step = SetupStep.start("memory-slots", true, () -> {
            throw thrown;
        });
        assertSame(thrown, assertThrows(IllegalArgumentException.class, step::await));
        assertSame(thrown, assertThrows(IllegalArgumentException.class, step::await), "and again");
    }

    @Test
    void aCheckedFailureComesBackAsItsOwnType() {
        IOException thrown = new IOException("k.elf: ends early");
        SetupStep<IOException> step;
        try {
            step = SetupStep.start("kernel-load", true, () -> {
                throw thrown;
            });
        } catch (IOException e) {
            throw new AssertionError("an overlapped step throws at await, not at start", e);
        }
        assertSame(thrown, assertThrows(IOException.class, step::await));
    }

    @Test
    void anInlineStepThrowsAtOnceBeforeALaterStepCanFailAndHideIt() {
        IllegalArgumentException thrown = new IllegalArgumentException("KVM_SET_USER_MEMORY_REGION: EINVAL");
        assertSame(thrown, assertThrows(IllegalArgumentException.class, () -> SetupStep.start("memory-slots", false, () -> {
            throw thrown;
        })));
    }

    @Test
    void closeWaitsForTheStepSoWhatItUsesOutlivesIt() {
        AtomicReference<Boolean> finished = new AtomicReference<>(false);
        SetupStep<RuntimeException> step = SetupStep.start("memory-slots", true, () -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            finished.set(true);
        });
        Thread.currentThread().interrupt(); // a teardown on an interrupted thread still waits
        step.close();
        assertTrue(Thread.interrupted(), "the interrupt is kept for the caller");
        assertTrue(finished.get());
    }
}
