// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Time compression's clocks ({@link Clock.Warp}, {@link Clock.Scaled}): the warp clock skips only
 * when every party waits for a deadline and no CPU has work, only to the earliest deadline, never
 * backwards; the scaled clock runs at least {@code speed} times the host's. The wait calls are
 * made from the test thread for every party: the clock keys them by slot, not by thread.
 */
class ClockCompressionTest {
    private static final long S = 1_000_000_000L;

    @Test
    void warpSkipsToTheEarliestDeadlineOnlyOnceEveryPartyWaits() {
        Clock.Warp w = new Clock.Warp(3);
        int a = w.register(new Thread(() -> { }));
        int b = w.register(new Thread(() -> { }));
        long t0 = w.nanoTime();
        w.beginWait(a, t0 + 100 * S);
        assertEquals(0, w.skips(), "one party of two waits: no skip");
        assertTrue(w.nanoTime() < t0 + S, "the clock follows the host");
        w.beginWait(b, t0 + 50 * S);
        assertEquals(1, w.skips(), "both wait: a skip");
        long t1 = w.nanoTime();
        assertTrue(t1 >= t0 + 50 * S && t1 < t0 + 100 * S, "to the earliest deadline, no further: " + (t1 - t0));
        // b runs again and waits for a deadline that has passed: nothing to skip
        w.endWait(b);
        w.beginWait(b, t1 - 1);
        assertEquals(1, w.skips(), "a due deadline is never skipped over");
        w.endWait(b);
        w.beginWait(b, Long.MAX_VALUE);
        assertEquals(2, w.skips(), "b waits for nothing: a's deadline is next");
        assertTrue(w.nanoTime() >= t0 + 100 * S);
        assertTrue(w.skippedNs() > 99 * S, "skipped time is counted: " + w.skippedNs());
    }

    @Test
    void aCpuWithWorkPendingVetoesTheSkip() {
        Clock.Warp w = new Clock.Warp(2);
        boolean[] work = {true};
        w.setPending(() -> work[0]);
        int a = w.register(new Thread(() -> { }));
        long t0 = w.nanoTime();
        w.beginWait(a, t0 + 10 * S);
        assertEquals(0, w.skips(), "a reschedule or kick is pending somewhere");
        work[0] = false;
        w.endWait(a);
        w.beginWait(a, t0 + 10 * S);
        assertEquals(1, w.skips());
        assertTrue(w.nanoTime() >= t0 + 10 * S);
    }

    @Test
    void aPartyLeavingLetsTheOthersSkipAndNoDeadlineMeansNoSkip() {
        Clock.Warp w = new Clock.Warp(2);
        int a = w.register(new Thread(() -> { }));
        int b = w.register(new Thread(() -> { }));
        long t0 = w.nanoTime();
        w.beginWait(a, Long.MAX_VALUE);
        w.unregister(b);
        assertEquals(0, w.skips(), "every party waits, but for nothing: nowhere to skip to");
        int c = w.register(new Thread(() -> { }));
        w.beginWait(c, t0 + 3 * S);
        assertEquals(1, w.skips());
        assertTrue(w.nanoTime() >= t0 + 3 * S);
        assertThrows(IllegalStateException.class, () -> {
            w.register(new Thread(() -> { }));
            w.register(new Thread(() -> { }));
        }, "a full party table");
    }

    @Test
    void theWarpClockNeverGoesBackwards() throws Exception {
        Clock.Warp w = new Clock.Warp(1);
        int a = w.register(new Thread(() -> { }));
        long[] worst = {0};
        Thread reader = new Thread(() -> {
            long prev = w.nanoTime();
            for (int i = 0; i < 200_000; i++) {
                long now = w.nanoTime();
                worst[0] = Math.min(worst[0], now - prev);
                prev = now;
            }
        });
        reader.start();
        for (int i = 0; i < 2_000; i++) {
            w.beginWait(a, w.nanoTime() + 1_000_000L);
            w.endWait(a);
        }
        reader.join();
        assertEquals(0, worst[0], "a reader saw the clock go back");
        assertTrue(w.skips() > 0);
    }

    @Test
    void theScaledClockRunsAtLeastSpeedTimesTheHost() {
        assertEquals(1, Clock.compressed(1, 4).speed(), "speed 1 is the host clock");
        assertInstanceOf(Clock.Warp.class, Clock.compressed(Clock.WARP, 4));
        Clock c = Clock.compressed(1000, 4);
        assertEquals(1000, c.speed());
        long h0 = System.nanoTime();
        long e0 = c.nanoTime();
        LockSupport.parkNanos(2_000_000L);
        long e1 = c.nanoTime();
        long h1 = System.nanoTime();
        assertTrue(e1 - e0 >= 1000 * 2_000_000L, "2 ms of host time is at least 2 s emulated: " + (e1 - e0));
        assertTrue(e1 - e0 <= 1000 * (h1 - h0) + 1000, "and never more than speed times the host's");
        assertThrows(IllegalArgumentException.class, () -> new Clock.Scaled(0));
    }
}
