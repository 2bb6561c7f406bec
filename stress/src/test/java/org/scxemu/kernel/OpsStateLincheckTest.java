// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.scx.Scx.SCX_DSQ_GLOBAL;
import static org.scxemu.scx.Scx.SCX_ENQ_CLEAR_OPSS;
import static org.scxemu.scx.Scx.SCX_OPSS_DISPATCHING;
import static org.scxemu.scx.Scx.SCX_OPSS_NONE;
import static org.scxemu.scx.Scx.SCX_OPSS_QSEQ_SHIFT;
import static org.scxemu.scx.Scx.SCX_OPSS_QUEUED;
import static org.scxemu.scx.Scx.SCX_OPSS_QUEUEING;
import static org.scxemu.scx.Scx.SCX_OPSS_STATE_MASK;
import static org.scxemu.scx.Scx.SCX_TASK_QUEUED;

import org.jetbrains.kotlinx.lincheck.LinChecker;
import org.jetbrains.kotlinx.lincheck.LincheckAssertionError;
import org.jetbrains.kotlinx.lincheck.annotations.Operation;
import org.jetbrains.kotlinx.lincheck.annotations.Param;
import org.jetbrains.kotlinx.lincheck.paramgen.IntGen;
import org.jetbrains.kotlinx.lincheck.strategy.managed.modelchecking.ModelCheckingOptions;
import org.junit.jupiter.api.Test;

/**
 * Lincheck model checking of the task ops-state machine (drawn in {@link SchedExtEntity}) on the
 * emulator's own {@code ExtDispatch.finishDispatch} and {@code Ext.opsDequeue} (private; reached through
 * the private-lookup handles of {@link OpsStateStress}), {@link ExtDispatch#dispatchEnqueue},
 * {@link ExtDispatch#dispatchDequeue} and the real ops-state accessors ({@link SchedExtEntity}'s ops-state
 * word). Until {@link StaticKey} stopped being a record, {@code ops_dequeue()} here was a mirror:
 * its QUEUED branch reads a static key, and Lincheck 2.39 cannot take a record's static fields
 * ("can't get base address on a record class", reported as "Non-determinism found").
 *
 * <p>Operations on one task {@code p} of CPU 0 (created enqueued, instance 1):
 * <ul>
 *   <li>{@code enqueue()}: {@code do_enqueue_task()}'s ops-state part under p's rq lock: a new
 *       instance {@code n}, QUEUEING|n then store-release QUEUED|n; false if p is already queued.
 *   <li>{@code dequeue()}: {@code dequeue_task_scx()} under p's rq lock: {@code ops_dequeue()} then
 *       {@code dispatch_dequeue()}. Returns 0 if p was not queued, 1 if it was taken back from the
 *       BPF scheduler (QUEUED -&gt; NONE), 2 if a dispatch had won and p was unlinked from the DSQ.
 *   <li>{@code dispatch(q)}: the BPF scheduler dispatching enqueue instance {@code q} to the global
 *       DSQ: {@code finish_dispatch(p, qseq_at_dispatch = q)} on CPU 1.
 * </ul>
 * Property: linearizability against {@link Spec}: a dispatch claims p only if p is QUEUED with
 * exactly its instance (a stale qseq is dropped); exactly one of dispatch and dequeue wins.
 *
 * <p>Teeth: {@link BrokenOpsStateMachine}'s dispatch is {@code finish_dispatch()} without the qseq
 * check; the checker must reject it ({@link #brokenOpsStateMachineIsRejected} asserts a
 * {@code LincheckAssertionError} with "Invalid execution results" and prints Lincheck's report).
 * What Lincheck 2.39 printed (JDK 17.0.15, 2026-11-26, shortened) with the failing scenario
 * minimized (the build does not minimize, which saves 20 to 60 s, and prints the first failing
 * scenario, a longer one, instead): the minimized scenario is a
 * dispatch of instance 3 while p is instance 1, which claims p (a stale dispatch must be dropped),
 * so the following dequeue finds p on the DSQ (2) where the specification has it still with the
 * BPF scheduler (1):
 * <pre>
 * = Invalid execution results =
 * |     Thread 1      | Thread 2 |
 * | dispatch(3): void |          |
 * | dequeue(): 2      |          |
 * ...
 * | dispatch(3)                                                                  |
 * |   finishDispatch(3)                                                          |
 * |     s.readOnceOpsState(): 6 at BrokenOpsStateMachine.finishDispatch(...)     |  (QUEUED | qseq 1)
 * |     s.casOpsState(6, 3): true at BrokenOpsStateMachine.finishDispatch(...)   |  (-&gt; DISPATCHING)
 * |     ext.dispatch.dispatchEnqueue(Dsq#1, Task#1, 72057594037927936)                     |  (SCX_ENQ_CLEAR_OPSS)
 * </pre>
 *
 * <p>How to run: {@code mvn -B -ntp -o test -pl stress -Dtest=OpsStateLincheckTest} (about 20 s on an idle machine).
 */
public class OpsStateLincheckTest {
    static final Kernel KERNEL = OpsStateStress.KERNEL;

    static {
        // Warm the private-method handles up before Lincheck runs: a MethodHandle's first calls
        // spin and customize LambdaForms, which the checker would see as non-determinism between
        // an invocation and its replay.
        for (int i = 0; i < 2_000; i++) {
            RealOpsStateMachine m = new RealOpsStateMachine();
            m.finishDispatch(1);
            m.dequeue();
        }
    }

    /**
     * Model checking, 2 threads x 2 operations plus 1 before and 1 after. The real object is
     * checked on 6 x 150 interleavings (about 20 s, CI's budget); a broken one stops at its first
     * failure, so it gets more room to find it (10 x 200).
     */
    static ModelCheckingOptions options(int iterations, int invocations) {
        return LincheckOptions.of(Spec.class, iterations, invocations);
    }

    @Test
    public void opsStateMachineIsLinearizable() {
        LinChecker.check(RealOpsStateMachine.class, options(6, 150));
    }

    @Test
    public void brokenOpsStateMachineIsRejected() {
        LincheckAssertionError e = assertThrows(LincheckAssertionError.class,
                () -> LinChecker.check(BrokenOpsStateMachine.class,
                options(10, 200).minimizeFailedScenario(false)));
        String report = e.getMessage();
        // a result no sequential order explains, not a crash of the test itself
        assertTrue(report.contains("Invalid execution results"), report);
        System.out.println("BrokenOpsStateMachine rejected, as it must be:\n" + report);
    }

    static long qseq(int n) {
        return (long) n << SCX_OPSS_QSEQ_SHIFT;
    }

    /** The real machine: a fresh Ext (its own global DSQ) and task per instance. */
    public static class RealOpsStateMachine {
        final Ext ext = new Ext(KERNEL);
        final Task p = OpsStateStress.queuedTask(); // instance 1: QUEUED | qseq(1)
        /**
         * p's rq (CPU 0), fresh per instance for its lock: Lincheck abandons hung or failed
         * invocations mid-operation, so a lock shared between instances could be left held.
         */
        final Rq rq = new Rq(KERNEL, 0);
        /** rq->scx.ops_qseq of p's rq (rq lock). */
        int opsQseq = 1;

        @Operation
        public boolean enqueue() {
            rq.lock.lock();
            try {
                if ((p.scx.flags & SCX_TASK_QUEUED) != 0) {
                    return false;
                }
                p.scx.flags |= SCX_TASK_QUEUED;
                long q = qseq(++opsQseq);
                p.scx.writeOnceOpsState(SCX_OPSS_QUEUEING | q);
                // ops.enqueue() would run here; pairs with finish_dispatch()'s cmpxchg
                p.scx.soOpsState(SCX_OPSS_QUEUED | q);
                return true;
            } finally {
                rq.lock.unlock();
            }
        }

        @Operation
        public int dequeue() {
            rq.lock.lock();
            try {
                if ((p.scx.flags & SCX_TASK_QUEUED) == 0) {
                    return 0;
                }
                opsDequeue();
                // ops_dequeue() returned on NONE, loaded with acquire: a winning dispatch's link is visible
                int onDsq = p.scx.dsq != null ? 1 : 0;
                ext.dispatch.dispatchDequeue(rq, p);
                p.scx.flags &= ~SCX_TASK_QUEUED;
                return onDsq + 1;
            } finally {
                rq.lock.unlock();
            }
        }

        /** ext.c: ops_dequeue(): the real {@code Ext.opsDequeue} (private; a private-lookup handle). */
        void opsDequeue() {
            try {
                OpsStateStress.OPS_DEQUEUE.invokeExact(ext, rq.ctx, p, 0L);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }

        /** The BPF scheduler dispatches enqueue instance {@code q}: finish_dispatch() on CPU 1. */
        @Operation
        public void dispatch(@Param(gen = IntGen.class, conf = "1:3") int q) {
            // CPU 1's rq lock excludes nothing here (p is CPU 0's; the DSQ is global): not taken
            finishDispatch(q);
        }

        void finishDispatch(int q) {
            Rq rq = KERNEL.rq(1);
            try {
                OpsStateStress.FINISH_DISPATCH.invokeExact(ext.dispatch, rq.ctx, rq, p, qseq(q), SCX_DSQ_GLOBAL, 0L);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }
    }

    /** BROKEN on purpose: finish_dispatch() without the qseq check (claims any QUEUED instance). */
    public static class BrokenOpsStateMachine extends RealOpsStateMachine {
        @Override
        void finishDispatch(int q) {
            SchedExtEntity s = p.scx;
            for (;;) {
                long opss = s.readOnceOpsState();
                long state = opss & SCX_OPSS_STATE_MASK;
                if (state == SCX_OPSS_DISPATCHING || state == SCX_OPSS_NONE) {
                    return;
                }
                if (state == SCX_OPSS_QUEUED) {
                    // missing: if ((opss & SCX_OPSS_QSEQ_MASK) != qseq(q)) return;
                    if (s.casOpsState(opss, SCX_OPSS_DISPATCHING)) {
                        break;
                    }
                    continue;
                }
                Thread.onSpinWait();
            }
            ext.dispatch.dispatchEnqueue(ext.globalDsq, p, SCX_ENQ_CLEAR_OPSS);
        }
    }

    /** The sequential specification. */
    public static class Spec {
        boolean queued = true;
        /** QUEUED on the BPF scheduler (else NONE). */
        boolean bpfQueued = true;
        boolean onDsq;
        int instance = 1;

        public boolean enqueue() {
            if (queued) {
                return false;
            }
            queued = true;
            bpfQueued = true;
            instance++;
            return true;
        }

        public int dequeue() {
            if (!queued) {
                return 0;
            }
            int r = onDsq ? 2 : 1;
            queued = false;
            bpfQueued = false;
            onDsq = false;
            return r;
        }

        public void dispatch(int q) {
            if (queued && bpfQueued && instance == q) {
                bpfQueued = false;
                onDsq = true;
            }
        }
    }
}
