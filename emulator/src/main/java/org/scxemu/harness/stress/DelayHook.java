// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.stress;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import org.scxemu.kernel.KThread;
import org.scxemu.kernel.RacePoint;

/**
 * The {@code delay} injector: a {@link RacePoint.Hook} that, at a seeded fraction of the core's
 * race points, widens the window the thread is in: a spin of a few hundred ns, a
 * {@code Thread.yield()}, or a park of 1-50 µs. Each thread draws from its own
 * {@link SplittableRandom}, seeded from the run's seed and the thread's CPU ({@code cpu-N}; other
 * threads by their name), so a CPU's decision sequence depends only on the seed and on how many
 * points it reached.
 *
 * <p>It also counts every race point it sees ({@link #hits}), delayed or not: with a threshold of
 * 0 it only counts, which is how a stress run without the {@code delay} injector still reports its
 * race-point hits per second.
 *
 * <p>Threads: {@link #at} runs on whichever thread reached the point, with whatever kernel locks
 * it holds: it takes no lock and, after the thread's first point (which creates its state),
 * allocates nothing. Each {@link State} is owned by its thread; {@link #delays} reads the counters
 * of every state from another thread.
 *
 * <p>Memory consistency effects: a state's delay counter is a volatile field with a single writer
 * (its thread), so {@link #delays} sees every increment that happened before it read it, and a
 * racy but benign total while threads still run. The hit counter is bumped at every point, so it
 * is written opaque (the kernel's WRITE_ONCE: no fence on the hot path) and read opaque by
 * {@link #hits}: racy but benign, a monotonic count for display; the final figure is read after
 * the CPU threads were joined, which orders every write before it.
 */
final class DelayHook implements RacePoint.Hook {
    /** A thread's private decision stream and its count of delays. */
    private static final class State {
        final SplittableRandom rnd;
        /** Written only by the owning thread; read by {@link #delays}. */
        volatile long count;
        /** Race points seen; written only by the owning thread (opaque), read by {@link #hits} (opaque). */
        long hits;

        State(long seed) {
            this.rnd = new SplittableRandom(seed);
        }
    }

    // VarHandle mechanics
    private static final VarHandle HITS;

    static {
        try {
            HITS = MethodHandles.lookup().findVarHandle(State.class, "hits", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Out of 65536: how many race points get a delay (0: none, the hook only counts). */
    private final int threshold;
    private final long seed;
    /** Every thread's state, for {@link #delays}; appended to once per thread. */
    private final ConcurrentLinkedQueue<State> states = new ConcurrentLinkedQueue<>();
    private final ThreadLocal<State> local = ThreadLocal.withInitial(this::newState);

    /**
     * @param seed the delay injector's seed
     * @param threshold how many race points out of 65536 get a delay (0..65536; 0 only counts)
     */
    DelayHook(long seed, int threshold) {
        this.seed = seed;
        this.threshold = threshold;
    }

    private State newState() {
        Thread t = Thread.currentThread();
        String name = t.getName();
        long key;
        if (t instanceof KThread && name.startsWith("cpu-")) {
            key = Long.parseLong(name.substring(4));
        } else {
            key = -1L - (name.hashCode() & 0xffffffffL);
        }
        State s = new State(seed ^ (0x9E3779B97F4A7C15L * (key + 1)));
        states.add(s);
        return s;
    }

    @Override
    public void at(int point) {
        State s = local.get();
        HITS.setOpaque(s, s.hits + 1); // single writer: this thread
        if (threshold == 0) {
            return;
        }
        SplittableRandom r = s.rnd;
        if (r.nextInt(65536) >= threshold) {
            return;
        }
        int action = r.nextInt(100);
        if (action < 60) {
            long end = System.nanoTime() + 100 + r.nextInt(800);
            while (System.nanoTime() < end) {
                Thread.onSpinWait();
            }
        } else if (action < 85) {
            Thread.yield();
        } else {
            LockSupport.parkNanos(1_000L + r.nextInt(49_000));
        }
        s.count = s.count + 1; // single writer: this thread
    }

    /** Race points seen so far, over every thread. */
    long hits() {
        long n = 0;
        for (State s : states) {
            n += (long) HITS.getOpaque(s);
        }
        return n;
    }

    /** Delays done so far, over every thread. */
    long delays() {
        long n = 0;
        for (State s : states) {
            n += s.count;
        }
        return n;
    }
}
