// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;
import static org.scxemu.scx.Scx.SCX_DSQ_GLOBAL;
import static org.scxemu.scx.Scx.SCX_OPSS_QSEQ_SHIFT;
import static org.scxemu.scx.Scx.SCX_OPSS_QUEUED;
import static org.scxemu.scx.Scx.SCX_OPSS_QUEUEING;
import static org.scxemu.scx.Scx.SCX_TASK_QUEUED;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * The task ops-state machine ({@code p->scx.ops_state}, drawn in {@link SchedExtEntity}), on the
 * emulator's own {@code Ext.finishDispatch} and {@code Ext.opsDequeue} (private: reached through
 * a private-lookup {@link MethodHandle}, so the emulator keeps no test hook) and the real
 * {@link ExtDispatch#dispatchEnqueue} / {@link ExtDispatch#dispatchDequeue}.
 *
 * <pre>
 *   dispatching CPU 1 (its rq lock)                 CPU 0 (p's rq lock): dequeue_task_scx()
 *   finish_dispatch(p, qseq_at_dispatch):           ops_dequeue(p):
 *     opss = READ_ONCE(ops_state)                     opss = load_acquire(ops_state)
 *     QUEUED|qseq == qseq_at_dispatch ?                QUEUED: cmpxchg(QUEUED|qseq -&gt; NONE)
 *     cmpxchg(QUEUED|qseq -&gt; DISPATCHING)                 lost: wait_ops_state(DISPATCHING)
 *     dispatch_enqueue(global, CLEAR_OPSS):            DISPATCHING: wait_ops_state(DISPATCHING)
 *       link, store_release(NONE) -----------------&gt; acquire: p is on the DSQ
 *                                                    dispatch_dequeue(p): unlink if on a DSQ
 * </pre>
 *
 * <p>Invariants:
 * <ul>
 *   <li>{@link DispatchVsDequeue}: exactly one of the two cmpxchgs on {@code QUEUED|qseq} wins.
 *       Dispatch wins: the dequeuer waits out DISPATCHING and finds {@code p} on the DSQ (it then
 *       unlinks it). Dequeue wins: the dispatch is dropped and {@code p} never reaches a DSQ. At
 *       quiescence {@code p} is on no DSQ, {@code nr == 0} and the state is NONE.
 *   <li>{@link StaleQseq}: CPU 0 dequeues {@code p} and re-enqueues it (a new qseq) while CPU 1
 *       dispatches with the old qseq: the stale dispatch is dropped. At quiescence {@code p} is
 *       QUEUED with the new qseq, owned by the BPF scheduler and on no DSQ; a stale dispatch that
 *       claimed the new instance would leave it NONE (or DISPATCHING) and on the DSQ.
 * </ul>
 *
 * <p>Set-up: each state owns a fresh {@link Ext} (its own global DSQ) and task on the shared
 * {@link #KERNEL}; no scheduler is loaded (the static keys are off, so {@code ops.dequeue()} is
 * not called: it is irrelevant to the protocol). Each actor takes the rq lock the kernel holds
 * there: CPU 1's for the dispatch, {@code p}'s (CPU 0's) for the dequeue. The re-enqueue in
 * {@link StaleQseq} is {@code do_enqueue_task()}'s ops-state part only (QUEUEING, then
 * store-release QUEUED|new qseq, with the real accessors): the full {@link Ext#doEnqueueTask}
 * needs a loaded scheduler to run {@code ops.enqueue()}; exercising it needs a scheduler loaded
 * once per JVM and a per-state {@code Ext}, which the one-{@code Ext}-per-JVM rule ({@code ACTIVE})
 * forbids, so the hook would be a package-private {@code Ext.opsEnqueueTransition(p, qseq)}.
 *
 * <p>How to run (after {@code mvn -B -ntp package -DskipTests}):
 * <pre>
 *   java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -jvmArgs "--add-opens java.base/jdk.internal.misc=ALL-UNNAMED" -t OpsStateStress
 * </pre>
 *
 * <h2>Observed</h2>
 * JDK 17.0.15 (Debian), 2-core AMD EPYC KVM guest (x86-64), jcstress 0.16, 2026-11-25, other builds
 * sharing the machine. CI's quick mode ({@code -m quick -sc false}, both biased-locking
 * configurations summed; what {@code run-jcstress.sh} runs; the whole 9-test suite in 35 to 50 s).
 * Only observed states are listed: every FORBIDDEN row, including the catch-all, saw 0 samples.
 * <pre>
 * OpsStateStress.DispatchVsDequeue  [OK]
 *   0, 0, 0, 0       108,807    6.83%  Acceptable  dequeue's cmpxchg won; dispatch saw NONE, dropped
 *   1, 1, 0, 0     1,484,575   93.17%  Acceptable  dispatch's cmpxchg won; dequeue waited, unlinked p
 * OpsStateStress.StaleQseq  [OK]
 *   0, 0, 0, 10       172,179   11.96%  Acceptable  dispatch after dequeue: NONE/QUEUEING/QSEQ2; dropped
 *   1, 1, 0, 10     1,267,603   88.04%  Acceptable  dispatch claimed QSEQ1 first; dequeue waited, unlinked p
 * </pre>
 * Default mode (1 normal + 5 stress forks, split compilation, 5 x 1 s iterations; all 7 new tests
 * together in 13 min 56 s, sharing the machine with other builds):
 * <pre>
 * OpsStateStress.DispatchVsDequeue  [OK]
 *   0, 0, 0, 0    51,565,985   38.60%  Acceptable  dequeue's cmpxchg won; dispatch saw NONE, dropped
 *   1, 1, 0, 0    82,009,013   61.40%  Acceptable  dispatch's cmpxchg won; dequeue waited, unlinked p
 * OpsStateStress.StaleQseq  [OK]
 *   0, 0, 0, 10    59,951,928   35.41%  Acceptable  dispatch after dequeue: NONE/QUEUEING/QSEQ2; dropped
 *   1, 1, 0, 10   109,370,910   64.59%  Acceptable  dispatch claimed QSEQ1 first; dequeue waited, unlinked p
 * </pre>
 *
 * <p>Teeth: {@code BrokenOpsStateStress} (test tree) runs {@link StaleQseq} against a copy of
 * {@code finish_dispatch()} without the qseq check; see its header for the observed table.
 */
public final class OpsStateStress {
    private OpsStateStress() {
    }

    /** The kernel every state hangs off. CPU 0 is p's CPU, CPU 1 dispatches. */
    static final Kernel KERNEL = new Kernel(2, new Clock.Manual());

    static final long QSEQ1 = 1L << SCX_OPSS_QSEQ_SHIFT;
    static final long QSEQ2 = 2L << SCX_OPSS_QSEQ_SHIFT;

    /** ext.c: finish_dispatch() and ops_dequeue(), private in {@link Ext}. */
    static final MethodHandle FINISH_DISPATCH;
    static final MethodHandle OPS_DEQUEUE;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.privateLookupIn(Ext.class, MethodHandles.lookup());
            FINISH_DISPATCH = MethodHandles.privateLookupIn(ExtDispatch.class, MethodHandles.lookup())
                    .findVirtual(ExtDispatch.class, "finishDispatch", MethodType.methodType(void.class,
                    ExecCtx.class, Rq.class, Task.class, long.class, long.class, long.class));
            OPS_DEQUEUE = l.findVirtual(Ext.class, "opsDequeue",
                    MethodType.methodType(void.class, ExecCtx.class, Task.class, long.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** A task on CPU 0, runnable (SCX_TASK_QUEUED) and QUEUED|QSEQ1 on the BPF scheduler. */
    static Task queuedTask() {
        Task p = new Task(100, "p", Task.SCHED_EXT, 0, false, CpuMask.of(0, 1), null, 0);
        p.scx.flags |= SCX_TASK_QUEUED;
        p.scx.soOpsState(SCX_OPSS_QUEUED | QSEQ1);
        return p;
    }

    /** CPU 1's dispatch of {@code p} to the global DSQ with {@code qseq}, under CPU 1's rq lock. */
    static void dispatch(Ext ext, Task p, long qseq) {
        Rq rq = KERNEL.rq(1);
        rq.lock.lock();
        try {
            FINISH_DISPATCH.invokeExact(ext.dispatch, rq.ctx, rq, p, qseq, SCX_DSQ_GLOBAL, 0L);
        } catch (Throwable t) {
            throw new AssertionError(t);
        } finally {
            rq.lock.unlock();
        }
    }

    /**
     * dequeue_task_scx()'s ops_dequeue() + dispatch_dequeue() on CPU 0; p's rq lock held by the
     * caller. Returns 1 if p was on a DSQ once ops_dequeue() returned (the dispatch had won).
     */
    static int dequeue(Ext ext, Task p) {
        Rq rq = KERNEL.rq(0);
        try {
            OPS_DEQUEUE.invokeExact(ext, rq.ctx, p, 0L);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        // ops_dequeue() returned on NONE, loaded with acquire: a winning dispatch's link is visible
        int onDsq = p.scx.dsq != null ? 1 : 0;
        ext.dispatch.dispatchDequeue(rq, p);
        return onDsq;
    }

    /**
     * Dispatch against dequeue of the same QUEUED task. Result: r1 = the dequeuer found p on the
     * DSQ, r2 = insertions into the DSQ ({@code dsq->seq}), r3 = DSQ {@code nr} at the end,
     * r4 = final ops_state.
     */
    @JCStressTest
    @Outcome(id = "0, 0, 0, 0", expect = ACCEPTABLE, desc = "dequeue's cmpxchg won; dispatch saw NONE, dropped")
    @Outcome(id = "1, 1, 0, 0", expect = ACCEPTABLE, desc = "dispatch's cmpxchg won; dequeue waited, unlinked p")
    @Outcome(id = "0, 1, .*",   expect = FORBIDDEN,  desc = "both won: p reached the DSQ after dequeue completed")
    @Outcome(expect = FORBIDDEN,                     desc = "lost, duplicated or a stuck ops_state")
    @State
    public static class DispatchVsDequeue {
        final Ext ext = new Ext(KERNEL);
        final Task p = queuedTask();

        /** CPU 1: finish_dispatch() with the qseq it recorded at scx_bpf_dispatch(). */
        @Actor
        public void dispatcher() {
            dispatch(ext, p, QSEQ1);
        }

        /** CPU 0: dequeue_task_scx() under p's rq lock. */
        @Actor
        public void dequeuer(IIII_Result r) {
            Rq rq = KERNEL.rq(0);
            rq.lock.lock();
            try {
                r.r1 = dequeue(ext, p);
            } finally {
                rq.lock.unlock();
            }
        }

        @Arbiter
        public void arbiter(IIII_Result r) {
            r.r2 = ext.globalDsq.seq;
            r.r3 = ext.globalDsq.lpNr();
            r.r4 = (int) p.scx.laOpsState();
        }
    }

    /**
     * A stale dispatch: CPU 0 dequeues p and re-enqueues it (QUEUED|QSEQ2) while CPU 1 dispatches
     * with QSEQ1. Result as {@link DispatchVsDequeue}; r4 = final ops_state, 10 = QUEUED|QSEQ2.
     */
    @JCStressTest
    @Outcome(id = "0, 0, 0, 10", expect = ACCEPTABLE, desc = "dispatch after dequeue: NONE/QUEUEING/QSEQ2; dropped")
    @Outcome(id = "1, 1, 0, 10", expect = ACCEPTABLE, desc = "dispatch claimed QSEQ1 first; dequeue waited, unlinked p")
    @Outcome(id = "0, 1, 1, .*", expect = FORBIDDEN,  desc = "stale dispatch claimed the re-enqueued p (qseq ignored)")
    @Outcome(expect = FORBIDDEN,                      desc = "lost, duplicated or a stuck ops_state")
    @State
    public static class StaleQseq {
        final Ext ext = new Ext(KERNEL);
        final Task p = queuedTask();

        /** CPU 1: finish_dispatch() with the qseq of the first enqueue. */
        @Actor
        public void dispatcher() {
            dispatch(ext, p, QSEQ1);
        }

        /** CPU 0: dequeue, then do_enqueue_task()'s ops-state transitions with a new qseq. */
        @Actor
        public void dequeuer(IIII_Result r) {
            Rq rq = KERNEL.rq(0);
            rq.lock.lock();
            try {
                r.r1 = dequeue(ext, p);
                // ext.c: do_enqueue_task(): qseq = rq->scx.ops_qseq++ << SCX_OPSS_QSEQ_SHIFT
                p.scx.writeOnceOpsState(SCX_OPSS_QUEUEING | QSEQ2);
                // ops.enqueue() would run here; then: pairs with the READ_ONCE + cmpxchg in
                // finish_dispatch() (which only touches p after a successful cmpxchg)
                p.scx.soOpsState(SCX_OPSS_QUEUED | QSEQ2);
            } finally {
                rq.lock.unlock();
            }
        }

        @Arbiter
        public void arbiter(IIII_Result r) {
            r.r2 = ext.globalDsq.seq;
            r.r3 = ext.globalDsq.lpNr();
            r.r4 = (int) p.scx.laOpsState();
        }
    }
}
