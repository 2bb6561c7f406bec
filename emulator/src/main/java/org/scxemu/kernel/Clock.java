// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

/**
 * The kernel clock, in ns since boot. The default is the host's monotonic clock; a stress run may
 * compress time ({@link #compressed}); tests use {@link Manual} to step time by hand.
 */
public interface Clock {
    long nanoTime();

    /**
     * Emulated ns per host ns: 1 for the host clock, a {@link Warp} clock (it runs at the host's
     * pace between skips) and a manual clock (which does not follow the host at all); N for
     * {@link Scaled}. A CPU thread that waits for an emulated deadline
     * waits {@code 1 / speed()} of it on the host.
     */
    default long speed() {
        return 1;
    }

    /** The host's monotonic clock, zeroed at creation. */
    static Clock host() {
        long base = System.nanoTime();
        return () -> System.nanoTime() - base;
    }

    /** The {@code speed} that asks for a {@link Warp} clock rather than a scale. */
    long WARP = 0;

    /**
     * The host clock for {@code speed} 1, a {@link Warp} clock for {@link #WARP} (with room for
     * {@code parties} parties), else a {@link Scaled} one.
     */
    static Clock compressed(long speed, int parties) {
        if (speed == WARP) {
            return new Warp(parties);
        }
        return speed == 1 ? host() : new Scaled(speed);
    }

    /**
     * Time compression: the host's monotonic clock, zeroed at creation, running {@code speed}
     * times as fast. Every emulated duration (a task's run burst, a sleep, an RT burst, the tick,
     * a timer, the watchdog's timeout) passes {@code speed} times sooner on the host, while the
     * CPU threads still run the real protocol code concurrently at the host's own speed.
     *
     * <p>Why a plain scale and not a clock that skips ahead only while every CPU waits: skipping
     * needs every thread that can make protocol work (CPU threads, chaos, wakers on other
     * threads) to announce when it waits and when it is woken, on the hot path, and a missed
     * announcement is a jump over pending work. A scale needs nothing from anyone: each thread
     * reads the host clock as before, so the code at the race points, its locks and its
     * interleavings are exactly those of an uncompressed run.
     *
     * <p>What it changes, and what it can hide: protocol work now costs {@code speed} times more
     * emulated time (5 µs of host work is 0.5 ms at speed 100), so emulated latencies carry that
     * inflation; a race whose window depends on real time elapsing on another thread while a CPU
     * is inside a task's run (a burst, a sleep, a timer) sees that window {@code speed} times
     * shorter on the host, so it is hit less often; and a host stall of one thread (the host's
     * scheduler, a GC pause) looks {@code speed} times longer to the emulated kernel, which is why
     * {@code stress} bounds its default speed by the run's stall budget.
     *
     * <p>Memory consistency effects: none beyond {@link System#nanoTime()}; the fields are final.
     */
    final class Scaled implements Clock {
        private final long base;
        private final long speed;

        public Scaled(long speed) {
            if (speed < 1) {
                throw new IllegalArgumentException("clock speed must be >= 1, got " + speed);
            }
            this.base = System.nanoTime();
            this.speed = speed;
        }

        @Override
        public long nanoTime() {
            return (System.nanoTime() - base) * speed;
        }

        @Override
        public long speed() {
            return speed;
        }
    }

    /**
     * Time compression by skipping: the host's monotonic clock, zeroed at creation, plus an
     * offset that grows only when every registered party (each CPU thread, the watchdog, the chaos
     * thread) waits for an emulated deadline and no CPU has work pending. The last party to start
     * waiting then moves the clock straight to the earliest deadline and wakes every party whose
     * deadline is then due (a party parks for at most the host time its deadline is away, so one
     * that a skip brought closer is woken by the next skip or wait, or by its park bound), so time
     * spent waiting (a task's run burst, a sleep, an RT burst, the gap to the next tick) costs no
     * host time, while protocol work runs at the host's own pace, one emulated ns per host ns.
     *
     * <p>Why this is faithful where a plain scale is not: a skip happens only when nothing could
     * have happened in between (every party sleeps until a known deadline, the earliest one is
     * the target, nobody has a kick or a reschedule pending), so the emulated machine sees the
     * same sequence of events as an infinitely fast host would give it; emulated latencies
     * carry no amplified protocol cost; and a host stall of a working thread stops no one (a skip
     * needs everyone waiting), so it counts one for one, never as a stall of the scheduler. What
     * it still hides: a thread outside the parties (the ops helper doing a disable, a reload on
     * the chaos thread, the harness's checks) may see the clock jump, by at most the gap to the
     * next deadline, while it works; and a race whose window depends on real time elapsing on
     * another thread while a CPU is inside a task's run gets that window only in host time that
     * the skip removed, so it is hit less often.
     *
     * <p>Memory consistency effects: {@link #offset} is volatile and only grows, written under
     * {@code lock} and read by every {@link #nanoTime}; a reader sees a monotonic clock. The
     * party table is guarded by {@code lock}. A waiter's work check ({@code pending}) runs under
     * {@code lock} too; it reads the kernel's need_resched and kick flags racily (racy but
     * benign: a flag set after the check is followed by an unpark of the CPU thread, whose
     * {@link #endWait} ends any skip decision that would need it waiting).
     */
    final class Warp implements Clock {
        private final long base = System.nanoTime();
        /** Emulated ns skipped so far; grows only, under {@code lock}. */
        private volatile long offset;
        private final Object lock = new Object();
        /** Guarded by {@code lock}: each party's thread, deadline while waiting, and whether it waits. */
        private final Thread[] threads;
        private final long[] deadlines;
        private final boolean[] waiting;
        private int parties;
        private int nWaiting;
        private long skips;
        /** Whether any CPU has work pending (a reschedule, a kick); set once, before any party waits. */
        private java.util.function.BooleanSupplier pending = () -> false;

        /** @param maxParties how many parties may register at once */
        public Warp(int maxParties) {
            threads = new Thread[maxParties];
            deadlines = new long[maxParties];
            waiting = new boolean[maxParties];
        }

        @Override
        public long nanoTime() {
            return System.nanoTime() - base + offset;
        }

        /** Sets the check that vetoes a skip while some CPU has work pending. */
        public void setPending(java.util.function.BooleanSupplier pending) {
            this.pending = pending;
        }

        /**
         * Registers {@code t} as a party (before it starts, so that no skip happens before it
         * waits for the first time); returns its slot for the wait calls, which {@code t} makes.
         */
        public int register(Thread t) {
            synchronized (lock) {
                for (int i = 0; i < threads.length; i++) {
                    if (threads[i] == null) {
                        threads[i] = t;
                        waiting[i] = false;
                        parties++;
                        return i;
                    }
                }
            }
            throw new IllegalStateException("too many parties on the warp clock");
        }

        /** Removes a party (it will not wait again); a skip may follow if everyone else waits. */
        public void unregister(int slot) {
            synchronized (lock) {
                if (waiting[slot]) {
                    waiting[slot] = false;
                    nWaiting--;
                }
                threads[slot] = null;
                parties--;
                maybeSkip();
            }
        }

        /**
         * The party in {@code slot} is about to wait until {@code deadlineNs} (emulated; MAX for no
         * deadline). If it is the last to wait, the clock may skip; the caller then waits for
         * {@code deadlineNs - nanoTime()} of host time (or not at all), and calls
         * {@link #endWait} when it runs again.
         */
        public void beginWait(int slot, long deadlineNs) {
            synchronized (lock) {
                if (!waiting[slot]) {
                    waiting[slot] = true;
                    nWaiting++;
                }
                deadlines[slot] = deadlineNs;
                maybeSkip();
            }
        }

        /** The party in {@code slot} runs again. */
        public void endWait(int slot) {
            synchronized (lock) {
                if (waiting[slot]) {
                    waiting[slot] = false;
                    nWaiting--;
                }
            }
        }

        /** How many times the clock skipped, and how far in all (emulated ns). */
        public long skips() {
            synchronized (lock) {
                return skips;
            }
        }

        public long skippedNs() {
            return offset;
        }

        /**
         * With {@code lock} held, once every party waits and no CPU has work: the skip to the
         * earliest deadline, if it is ahead, and the wake-up of every party whose deadline is due.
         */
        private void maybeSkip() {
            if (parties == 0 || nWaiting < parties || pending.getAsBoolean()) {
                return;
            }
            long min = Long.MAX_VALUE;
            for (int i = 0; i < threads.length; i++) {
                if (threads[i] != null && waiting[i]) {
                    min = Math.min(min, deadlines[i]);
                }
            }
            long now = nanoTime();
            if (min == Long.MAX_VALUE) {
                return;
            }
            if (min > now) {
                offset += min - now;
                skips++;
                now = min;
            }
            // wake every party whose deadline is due: the skip's target, and any party that parked
            // for the host time its deadline was away before an earlier skip brought it closer
            for (int i = 0; i < threads.length; i++) {
                if (threads[i] != null && waiting[i] && deadlines[i] <= now) {
                    java.util.concurrent.locks.LockSupport.unpark(threads[i]);
                }
            }
        }
    }

    /** A clock that only moves when told to. Any thread may read or advance it. */
    final class Manual implements Clock {
        private volatile long now;

        @Override
        public long nanoTime() {
            return now;
        }

        public void set(long ns) {
            now = ns;
        }

        public void advance(long ns) {
            now += ns;
        }
    }
}
