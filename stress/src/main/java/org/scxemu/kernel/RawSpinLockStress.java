// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.IIII_Result;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * {@link RawSpinLock}, the DSQ lock (the kernel's {@code raw_spinlock_t}): mutual exclusion with
 * {@code lock()} and with {@code tryLock()} in queued mode and in test-and-set mode (the mode of an
 * oversubscribed host), and FIFO hand-off to a thread already waiting (queued mode).
 *
 * <p>Invariants:
 * <ul>
 *   <li>{@link MutualExclusion}, {@link TestAndSetMutualExclusion}, {@link LockVsTryLock}: two
 *       critical sections never overlap: each reads a plain counter and writes it back plus one,
 *       so an overlap loses an increment and both read the same value. At the end the lock is
 *       free.
 *   <li>{@link FifoHandOff}: a thread that took its ticket while the lock was held is served
 *       before the holder's next acquisition: the holder cannot barge back in on unlock-then-lock.
 *       {@code A} holds the lock and waits (boundedly) to see {@code B} queued; then it unlocks
 *       and locks again. If {@code A} saw {@code B} waiting, {@code B}'s critical section must be
 *       the second of the three.
 * </ul>
 *
 * <pre>
 *   A                                    B
 *   lock(); waited = sees B queued?      lock()            (takes ticket 1 if A holds ticket 0)
 *   order[0] = A; unlock()               order[n++] = B; unlock()
 *   lock(); order[n++] = A; unlock()
 *   waited == 1 implies B is order 1 (ticket 1 is served before A's ticket 2)
 * </pre>
 *
 * <p>How to run (after {@code mvn -B -ntp package -DskipTests}):
 * <pre>
 *   bash stress/run-jcstress.sh -t RawSpinLockStress
 * </pre>
 *
 * <p>Teeth: {@code BrokenRawSpinLockStress} (test tree, never in jcstress.jar) runs the same
 * scenarios on a ticket lock whose ticket is taken with a read then a write (two threads can hold
 * the same ticket: mutual exclusion fails) and on a test-and-set lock (no queue: the holder barges
 * back in ahead of the waiter); both show their FORBIDDEN outcome (tables in its header).
 *
 * <h2>Observed</h2>
 * Quick mode, JDK 17.0.15, 2-core x86-64 KVM guest under heavy load, 2026-12-04; every
 * acceptable outcome of the queued lock seen except a rare one, nothing forbidden (one
 * configuration shown; the test-and-set scenario passed in the same suite run):
 * <pre>
 *   MutualExclusion   0, 1, 2   66,403    1, 0, 2   29,521
 *   LockVsTryLock     0, -1, 1, 0   12,212    0, 1, 2, 0   327,625    1, 0, 2, 0   282,774
 *   FifoHandOff       0, 0   81,889    0, 1   2    0, 2   10,517    1, 1   169    1, 2   0
 * </pre>
 */
public class RawSpinLockStress {
    /** A plain counter incremented in critical sections: an overlap loses an increment. */
    static class Counter {
        int x;

        /** One critical section under {@code lock}: the counter's value before the increment. */
        int increment(RawSpinLock lock) {
            lock.lock();
            try {
                int v = x;
                x = v + 1;
                return v;
            } finally {
                lock.unlock();
            }
        }
    }

    /** How long A waits, at most, to see B queued (bounded: jcstress actors must not wait for each other). */
    static final int WAIT_FOR_QUEUED = 2_000;

    @JCStressTest
    @Outcome(id = "0, 1, 2", expect = ACCEPTABLE, desc = "first actor's section, then the second's")
    @Outcome(id = "1, 0, 2", expect = ACCEPTABLE, desc = "second actor's section, then the first's")
    @Outcome(expect = FORBIDDEN, desc = "sections overlapped: an increment lost or the lock left held")
    @State
    public static class MutualExclusion extends Counter {
        final RawSpinLock lock = new RawSpinLock(true);

        @Actor
        public void actor1(III_Result r) {
            r.r1 = increment(lock);
        }

        @Actor
        public void actor2(III_Result r) {
            r.r2 = increment(lock);
        }

        @Arbiter
        public void arbiter(III_Result r) {
            r.r3 = lock.isLocked() ? -100 : x;
        }
    }

    @JCStressTest
    @Outcome(id = "0, 1, 2, 0", expect = ACCEPTABLE, desc = "lock() first, tryLock() after its unlock")
    @Outcome(id = "1, 0, 2, 0", expect = ACCEPTABLE, desc = "tryLock() first, lock() waited for it")
    @Outcome(id = "0, -1, 1, 0", expect = ACCEPTABLE, desc = "tryLock() found the lock held and failed")
    @Outcome(expect = FORBIDDEN, desc = "sections overlapped, or the lock left held")
    @State
    public static class LockVsTryLock extends Counter {
        final RawSpinLock lock = new RawSpinLock(true);

        @Actor
        public void locker(IIII_Result r) {
            r.r1 = increment(lock);
        }

        @Actor
        public void tryLocker(IIII_Result r) {
            if (!lock.tryLock()) {
                r.r2 = -1;
                return;
            }
            try {
                int v = x;
                x = v + 1;
                r.r2 = v;
            } finally {
                lock.unlock();
            }
        }

        @Arbiter
        public void arbiter(IIII_Result r) {
            r.r3 = x;
            r.r4 = lock.isLocked() ? 1 : 0;
        }
    }

    @JCStressTest
    @Outcome(id = "0, 1, 2", expect = ACCEPTABLE, desc = "first actor's section, then the second's")
    @Outcome(id = "1, 0, 2", expect = ACCEPTABLE, desc = "second actor's section, then the first's")
    @Outcome(expect = FORBIDDEN, desc = "sections overlapped: an increment lost or the lock left held")
    @State
    public static class TestAndSetMutualExclusion extends Counter {
        final RawSpinLock lock = new RawSpinLock(false);

        @Actor
        public void actor1(III_Result r) {
            r.r1 = increment(lock);
        }

        @Actor
        public void actor2(III_Result r) {
            r.r2 = increment(lock);
        }

        @Arbiter
        public void arbiter(III_Result r) {
            r.r3 = lock.isLocked() ? -100 : x;
        }
    }

    @JCStressTest
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "B queued while A held the lock, and was served before A's "
            + "next lock: FIFO hand-off")
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "B first; A did not see it queued")
    @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "B queued after A looked, before A locked again")
    @Outcome(id = "0, 2", expect = ACCEPTABLE, desc = "B came after both of A's sections")
    @Outcome(id = "1, 2", expect = FORBIDDEN, desc = "A barged back in ahead of the queued B")
    @Outcome(expect = FORBIDDEN, desc = "anything else")
    @State
    public static class FifoHandOff {
        final RawSpinLock lock = new RawSpinLock(true);
        /** Critical sections so far; guarded by the lock. */
        int n;

        @Actor
        public void a(II_Result r) {
            lock.lock();
            try {
                r.r1 = sawQueued(lock) ? 1 : 0;
                n++;
            } finally {
                lock.unlock();
            }
            lock.lock();
            try {
                n++;
            } finally {
                lock.unlock();
            }
        }

        @Actor
        public void b(II_Result r) {
            lock.lock();
            try {
                r.r2 = n++;
            } finally {
                lock.unlock();
            }
        }

        private static boolean sawQueued(RawSpinLock lock) {
            for (int i = 0; i < WAIT_FOR_QUEUED; i++) {
                if (lock.queueLength() > 0) {
                    return true;
                }
                Thread.onSpinWait();
            }
            return false;
        }
    }
}
