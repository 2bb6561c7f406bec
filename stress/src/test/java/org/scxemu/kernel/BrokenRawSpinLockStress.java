// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * BROKEN on purpose (test tree only, never in jcstress.jar): {@link RawSpinLockStress}'s
 * scenarios on two wrong spin locks.
 * <ul>
 *   <li>{@link SplitTicketLock}: a ticket lock that takes its ticket with a load and then a store
 *       instead of one atomic add, so two threads can draw the same ticket and both enter:
 *       {@link SplitTicketMutualExclusion} shows the lost increment "0, 0, 1".
 *   <li>{@link TasLock}: a test-and-test-and-set lock, mutually exclusive but with no queue: on
 *       unlock-then-lock the holder usually wins the CAS against a waiter that is between two
 *       spins, so {@link TasFifoHandOff} shows "1, 2", the barging that the ticket lock forbids.
 * </ul>
 *
 * <p>Run by hand:
 * <pre>
 *   cd stress/target &amp;&amp; java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED \
 *       -cp test-classes:jcstress.jar org.openjdk.jcstress.Main -m quick -sc false \
 *       -jvmArgs "--add-opens java.base/jdk.internal.misc=ALL-UNNAMED" -t BrokenRawSpinLockStress
 * </pre>
 *
 * <h2>Observed</h2>
 * Quick mode, JDK 17.0.15, 2-core x86-64 KVM guest under heavy load (uptime 17-21), 2026-12-04;
 * both variants rejected in every configuration, e.g.:
 * <pre>
 *   [FAILED] org.scxemu.kernel.BrokenRawSpinLockStress.SplitTicketMutualExclusion
 *     0, 0, 1      2,575    1.80%   Forbidden  sections overlapped: both drew the same ticket
 *     0, 1, 2     80,749   56.36%  Acceptable  first actor's section, then the second's
 *     1, 0, 2     59,960   41.85%  Acceptable  second actor's section, then the first's
 *   [FAILED] org.scxemu.kernel.BrokenRawSpinLockStress.TasFifoHandOff
 *       0, 0      3,991   67.04%  Acceptable  B first; A did not see it queued
 *       0, 2      1,886   31.68%  Acceptable  B came after both of A's sections
 *       1, 1         15    0.25%  Acceptable  B queued and was served before A's next lock
 *       1, 2         61    1.02%   Forbidden  A barged back in ahead of the queued B
 * </pre>
 */
public class BrokenRawSpinLockStress {
    /** Ticket lock with a non-atomic ticket draw: the bug under test. */
    static final class SplitTicketLock {
        volatile int next;
        volatile int owner;

        /** Returns the ticket drawn, for {@link #unlock}. */
        int lock() {
            int ticket = next; // BROKEN: load, then store; another thread can draw the same ticket
            next = ticket + 1;
            // Enter once served or overtaken (a duplicate ticket may have been served already), so
            // that the broken lock shows overlapping sections instead of hanging.
            while (owner - ticket < 0) {
                Thread.onSpinWait();
            }
            return ticket;
        }

        /** Serves the ticket after {@code ticket} (two holders of one ticket leave it consistent). */
        void unlock(int ticket) {
            owner = ticket + 1;
        }
    }

    /** Test-and-test-and-set lock with a waiter count (so the FIFO scenario can see a waiter). */
    static final class TasLock {
        volatile int locked;
        volatile int waiting;

        void lock() {
            if (LOCKED.compareAndSet(this, 0, 1)) {
                return;
            }
            WAITING.getAndAdd(this, 1);
            do {
                while (locked != 0) {
                    Thread.onSpinWait();
                }
            } while (!LOCKED.compareAndSet(this, 0, 1)); // BROKEN: whoever CASes first wins
            WAITING.getAndAdd(this, -1);
        }

        void unlock() {
            locked = 0;
        }

        private static final VarHandle LOCKED;
        private static final VarHandle WAITING;

        static {
            try {
                MethodHandles.Lookup l = MethodHandles.lookup();
                LOCKED = l.findVarHandle(TasLock.class, "locked", int.class);
                WAITING = l.findVarHandle(TasLock.class, "waiting", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
    }

    @JCStressTest
    @Outcome(id = "0, 1, 2", expect = ACCEPTABLE, desc = "first actor's section, then the second's")
    @Outcome(id = "1, 0, 2", expect = ACCEPTABLE, desc = "second actor's section, then the first's")
    @Outcome(expect = FORBIDDEN, desc = "sections overlapped: both drew the same ticket")
    @State
    public static class SplitTicketMutualExclusion {
        final SplitTicketLock lock = new SplitTicketLock();
        int x;

        @Actor
        public void actor1(III_Result r) {
            int t = lock.lock();
            int v = x;
            x = v + 1;
            r.r1 = v;
            lock.unlock(t);
        }

        @Actor
        public void actor2(III_Result r) {
            int t = lock.lock();
            int v = x;
            x = v + 1;
            r.r2 = v;
            lock.unlock(t);
        }

        @Arbiter
        public void arbiter(III_Result r) {
            r.r3 = x;
        }
    }

    @JCStressTest
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "B queued and was served before A's next lock")
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "B first; A did not see it queued")
    @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "B queued after A looked, before A locked again")
    @Outcome(id = "0, 2", expect = ACCEPTABLE, desc = "B came after both of A's sections")
    @Outcome(id = "1, 2", expect = FORBIDDEN, desc = "A barged back in ahead of the queued B")
    @Outcome(expect = FORBIDDEN, desc = "anything else")
    @State
    public static class TasFifoHandOff {
        final TasLock lock = new TasLock();
        int n;

        @Actor
        public void a(II_Result r) {
            lock.lock();
            boolean queued = false;
            for (int i = 0; i < RawSpinLockStress.WAIT_FOR_QUEUED && !queued; i++) {
                queued = lock.waiting > 0;
                Thread.onSpinWait();
            }
            r.r1 = queued ? 1 : 0;
            n++;
            lock.unlock();
            lock.lock();
            n++;
            lock.unlock();
        }

        @Actor
        public void b(II_Result r) {
            lock.lock();
            r.r2 = n++;
            lock.unlock();
        }
    }
}
