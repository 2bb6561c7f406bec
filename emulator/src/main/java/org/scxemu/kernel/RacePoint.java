// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

/**
 * The core's race windows, as hook points: places where another CPU's interleaving changes the
 * outcome (between the ops-state transitions, inside a cross-CPU move, between a kick and its
 * wait, around the {@code pnt_seq} store and the {@code cpu_released} flip, DSQ inserts and
 * removals, rq lock acquisitions). Nothing here is a kernel function: the kernel has no such hooks;
 * the points mark where {@code ./scx-emu stress} widens a window (a delay or a yield) and where a
 * controlled run hands the machine to another CPU thread.
 *
 * <p>When no hook is installed, {@link #at} costs nothing: it is guarded by a {@link StaticKey}
 * that the JIT folds to {@code false}. A hook is global, like the static keys, so at most one
 * machine per JVM may install one.
 *
 * <p>Memory consistency effects: {@link #install} writes the hook before it enables the key;
 * a thread that observes the key enabled (the key flip's {@code syncAll} is a full fence) reads
 * the hook from the volatile {@link #hook}, which pairs with the volatile write in
 * {@link #install}. {@link #uninstall} disables the key first, so a thread can at worst run the
 * old hook once more after it returns.
 */
public final class RacePoint {
    /** Between two ops-state transitions of a task (after a CAS or store of the word). */
    public static final int OPS_STATE = 0;
    /** Inside a cross-CPU move, with the task unlinked and no rq lock held. */
    public static final int CROSS_CPU_MOVE = 1;
    /** Between a kick's irq work and its SCX_KICK_WAIT spin. */
    public static final int KICK_WAIT = 2;
    /** Just before an rq lock or DSQ lock is taken. */
    public static final int LOCK = 3;
    /** After a task was inserted into a DSQ. */
    public static final int DSQ_INSERT = 4;
    /** After a task was removed from a DSQ. */
    public static final int DSQ_REMOVE = 5;
    /** Around the pnt_seq release store and its acquire loads. */
    public static final int PNT_SEQ = 6;
    /** After cpu_released flipped. */
    public static final int CPU_RELEASED = 7;
    /** Once per iteration of a spin-wait loop (ttwu's on_cpu wait, a non-CPU thread's kick wait). */
    public static final int SPIN = 8;
    /** How many points there are. */
    public static final int NR_POINTS = 9;

    private static final String[] NAMES = {
        "ops_state", "cross_cpu_move", "kick_wait", "lock", "dsq_insert", "dsq_remove", "pnt_seq", "cpu_released",
        "spin",
    };

    /** What a stress run or a controlled run does at a point, on the thread that reached it. */
    @FunctionalInterface
    public interface Hook {
        /**
         * Called at {@code point} on the thread that reached it, with whatever locks that thread
         * holds at that point (so it must not take kernel locks).
         */
        void at(int point);

        /**
         * Called on the thread about to take {@code lock} (an rq, DSQ or pi lock), after
         * {@code at(LOCK)}. Returns true if the hook took the lock for the caller; false to let the
         * caller wait in the lock's own {@code lock()} as usual (the default). A controlled run takes
         * it with {@code tryLock()} and, while that fails, hands over to another thread.
         */
        default boolean acquire(KernelLock lock) {
            return false;
        }
    }

    /** scx-emu's own key: on while a hook is installed. */
    private static final StaticKey ACTIVE = StaticKey.defineFalse("scx_emu_race_points");

    /** Written by {@link #install}/{@link #uninstall}; read by CPU threads (volatile). */
    private static volatile Hook hook;

    private RacePoint() {
    }

    /** The point's name, for traces and reports. */
    public static String name(int point) {
        return NAMES[point];
    }

    /** Marks a race window; does nothing (and costs nothing) unless a hook is installed. */
    public static void at(int point) {
        if (ACTIVE.enabled()) {
            Hook h = hook;
            if (h != null) {
                h.at(point);
            }
        }
    }

    /**
     * A kernel lock's {@code lock()} with a hook installed: the point, then the hook's acquire.
     * Returns true if the hook took {@code lock} for the caller; false if the caller must take it
     * itself, as usual.
     */
    static boolean hookAcquire(KernelLock lock) {
        Hook h = hook;
        if (h == null) {
            return false;
        }
        h.at(LOCK);
        return h.acquire(lock);
    }

    /** Installs {@code h} for every point. Called with no CPU running kernel code, or racily. */
    public static synchronized void install(Hook h) {
        hook = h;
        ACTIVE.enable();
    }

    /** Removes the hook (a no-op if none is installed). */
    public static synchronized void uninstall() {
        ACTIVE.disable();
        hook = null;
    }

    /** Whether a hook is installed. */
    public static boolean installed() {
        return ACTIVE.enabled();
    }
}
