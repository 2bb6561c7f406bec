// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link ReentrantLock} whose {@link #lock()} is a race point ({@link RacePoint#LOCK}): the
 * rq locks and {@code p->pi_lock} (the DSQ locks are {@link RawSpinLock}s). With no
 * {@link RacePoint.Hook} installed it is a plain {@code ReentrantLock}: the extra test is a
 * {@link StaticKey} the JIT folds to {@code false}. With a hook installed, the hook runs first
 * and may take the lock itself ({@link RacePoint.Hook#acquire}): a controlled run does, so that a
 * thread never blocks on a lock held by a thread the controller has parked; instead it hands
 * over until the lock is free.
 *
 * <p>Only {@link #lock()} is a race point; {@code tryLock()}, {@code unlock()} and the queries are
 * {@code ReentrantLock}'s own.
 *
 * <p>The reentrancy is not part of the model: {@link #lock()} asserts that the caller does not
 * hold the lock already.
 *
 * <p>Memory consistency effects: those of {@link ReentrantLock}.
 */
public final class RacePointLock extends ReentrantLock implements KernelLock {
    private static final long serialVersionUID = 1L;

    /**
     * Takes the lock. The kernel's rq, DSQ and pi locks are spinlocks: taking one twice on a CPU
     * deadlocks. {@code ReentrantLock} would let a second acquisition through and hide the bug, so
     * it is an assertion failure here (tests run with {@code -ea}; the check costs nothing without).
     */
    @Override
    public void lock() {
        assert !isHeldByCurrentThread() : "recursive acquisition of a kernel spinlock (self-deadlock in the kernel)";
        if (!RacePoint.installed() || !RacePoint.hookAcquire(this)) {
            super.lock();
        }
    }
}
