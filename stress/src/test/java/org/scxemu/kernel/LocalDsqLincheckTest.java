// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.scxemu.scx.Scx.SCX_ENQ_HEAD;

import java.util.ArrayDeque;
import org.jetbrains.kotlinx.lincheck.LinChecker;
import org.jetbrains.kotlinx.lincheck.LincheckAssertionError;
import org.jetbrains.kotlinx.lincheck.annotations.Operation;
import org.jetbrains.kotlinx.lincheck.annotations.Param;
import org.jetbrains.kotlinx.lincheck.paramgen.BooleanGen;
import org.jetbrains.kotlinx.lincheck.paramgen.IntGen;
import org.jetbrains.kotlinx.lincheck.strategy.managed.modelchecking.ModelCheckingOptions;
import org.junit.jupiter.api.Test;

/**
 * Lincheck model checking of a CPU's local DSQ as a concurrent object, on the emulator's own
 * {@link Dsq} and {@link ExtDispatch#dispatchEnqueue}, used as the kernel uses it: insert (a remote CPU's
 * {@code dispatch_to_local_dsq()}, FIFO or {@code SCX_ENQ_HEAD}), unlink (the owner's
 * {@code dispatch_dequeue()}) and first ({@code pick_next_task_scx()}) under the DSQ's rq lock;
 * {@code nr} read lock-free with READ_ONCE ({@code balance_scx()}'s check).
 *
 * <p>Property: linearizability against {@link Spec}, a plain {@link ArrayDeque}: every task at most
 * once, FIFO, HEAD first, {@code nr} = the contents. The checker explores thread switches at every
 * shared access (model checking), not samples.
 *
 * <p>Teeth: {@link BrokenLocalDsq} inserts without the rq lock (a remote CPU that forgets
 * {@code dispatch_to_local_dsq()}'s lock of the destination rq); the checker must reject it, and
 * {@link #brokenLocalDsqIsRejected} asserts that it does.
 *
 * <p>How to run: {@code mvn -B -ntp -o test -pl stress -Dtest=LocalDsqLincheckTest} (about 10 s).
 */
public class LocalDsqLincheckTest {
    /**
     * One kernel per JVM. Each instance builds its own {@code Rq} (CPU 0 of this kernel) and uses
     * its real local DSQ and rq lock: Lincheck abandons hung or failed invocations mid-operation, so
     * a lock shared between instances could be left held (and was, in a first version).
     */
    static final Kernel KERNEL = new Kernel(2, new Clock.Manual());

    /**
     * Model checking, 2 threads x 2 operations plus 1 before and 1 after. The real object is
     * checked on 6 x 150 interleavings (about 20 s, CI's budget); a broken one stops at its first
     * failure, so it gets more room to find it (10 x 200).
     */
    static ModelCheckingOptions options(int iterations, int invocations) {
        return LincheckOptions.of(Spec.class, iterations, invocations);
    }

    @Test
    public void localDsqIsLinearizable() {
        LinChecker.check(RealLocalDsq.class, options(6, 150));
    }

    @Test
    public void brokenLocalDsqIsRejected() {
        assertThrows(LincheckAssertionError.class,
                () -> LinChecker.check(BrokenLocalDsq.class,
                options(10, 200).minimizeFailedScenario(false)));
    }

    /** The real local DSQ of a fresh CPU-0 rq per instance, used under that rq's lock. */
    public static class RealLocalDsq {
        final Rq rq = new Rq(KERNEL, 0);
        final Dsq dsq = rq.scx.localDsq;
        final Task[] tasks = {null, LocalDsqStress.task(1), LocalDsqStress.task(2), LocalDsqStress.task(3)};

        /** A remote CPU's dispatch_enqueue() into this local DSQ, under the DSQ's rq lock. */
        @Operation
        public boolean insert(@Param(gen = IntGen.class, conf = "1:3") int id,
                @Param(gen = BooleanGen.class) boolean head) {
            rq.lock.lock();
            try {
                return link(id, head);
            } finally {
                rq.lock.unlock();
            }
        }

        boolean link(int id, boolean head) {
            Task p = tasks[id];
            if (p.scx.dsq != null) {
                return false;
            }
            KERNEL.ext.dispatch.dispatchEnqueue(dsq, p, head ? SCX_ENQ_HEAD : 0);
            return true;
        }

        /** The owner's dispatch_dequeue() of a queued task, under its rq lock. */
        @Operation
        public boolean unlink(@Param(gen = IntGen.class, conf = "1:3") int id) {
            rq.lock.lock();
            try {
                Task p = tasks[id];
                if (p.scx.dsq != dsq) {
                    return false;
                }
                KERNEL.ext.dispatch.dispatchDequeue(rq, p);
                return true;
            } finally {
                rq.lock.unlock();
            }
        }

        /** pick_next_task_scx()'s first(): the pid at the head, 0 if empty. */
        @Operation
        public int first() {
            rq.lock.lock();
            try {
                Task p = dsq.first();
                return p == null ? 0 : p.pid;
            } finally {
                rq.lock.unlock();
            }
        }

        /** READ_ONCE(dsq->nr), no lock. */
        @Operation
        public int nr() {
            return dsq.readOnceNr();
        }
    }

    /** BROKEN on purpose: the remote insert takes no rq lock (the other operations still do). */
    public static class BrokenLocalDsq extends RealLocalDsq {
        @Override
        @Operation
        public boolean insert(@Param(gen = IntGen.class, conf = "1:3") int id,
                @Param(gen = BooleanGen.class) boolean head) {
            Task p = tasks[id];
            if (p.scx.dsq != null) {
                return false;
            }
            // dispatch_enqueue() would assert the lock; link as it does, without it
            if (head) {
                dsq.linkHead(p);
            } else {
                dsq.linkTail(p);
            }
            p.scx.dsq = dsq;
            return true;
        }
    }

    /** The sequential specification: a deque of pids. */
    public static class Spec {
        final ArrayDeque<Integer> q = new ArrayDeque<>();

        public boolean insert(int id, boolean head) {
            if (q.contains(id)) {
                return false;
            }
            if (head) {
                q.addFirst(id);
            } else {
                q.addLast(id);
            }
            return true;
        }

        public boolean unlink(int id) {
            return q.remove(id);
        }

        public int first() {
            Integer p = q.peekFirst();
            return p == null ? 0 : p;
        }

        public int nr() {
            return q.size();
        }
    }
}
