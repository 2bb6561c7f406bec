// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

/**
 * A lock the ported kernel takes and a {@link RacePoint.Hook} may take on a thread's behalf: the
 * rq lock and {@code p->pi_lock} ({@link RacePointLock}, a {@code ReentrantLock}) or a DSQ lock
 * ({@link RawSpinLock}, a queued spin lock). The methods are the subset of {@code ReentrantLock}'s
 * that the core, the invariant checker and the controlled-run hand-over use, with its meaning.
 *
 * <p>Memory consistency effects: those of a lock: everything a thread did before {@link #unlock}
 * happens-before everything the next thread to acquire the lock (with {@link #lock} or a
 * successful {@link #tryLock}) does after acquiring it.
 */
public interface KernelLock {
    /** Acquires the lock (a race point in both implementations). */
    void lock();

    /** Acquires the lock if it is free right now; never waits. */
    boolean tryLock();

    /** Releases the lock; only its holder may. */
    void unlock();

    /** Whether any thread holds the lock (racy: a hint, or a check under a lock that orders it). */
    boolean isLocked();

    /** Whether the calling thread holds the lock (exact for the calling thread). */
    boolean isHeldByCurrentThread();
}
