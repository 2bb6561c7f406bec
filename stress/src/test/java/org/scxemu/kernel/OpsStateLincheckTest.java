package org.scxemu.kernel;

import static org.jetbrains.kotlinx.lincheck.strategy.managed.ManagedStrategyGuaranteeKt.forClasses;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
 * emulator's own {@code Ext.finishDispatch} (private; reached through the private-lookup handle of
 * {@link OpsStateStress}), {@link Ext#dispatchEnqueue}, {@link Ext#dispatchDequeue} and the real
 * ops-state accessors. The dequeue side's {@code ops_dequeue()} is a line-for-line mirror of
 * {@code Ext.opsDequeue} (see {@link RealOpsStateMachine#opsDequeue} for why);
 * {@code OpsStateStress} runs the real one under jcstress.
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
 * check; the checker must reject it ({@link #brokenOpsStateMachineIsRejected}).
 *
 * <p>How to run: {@code mvn -B -ntp -o test -pl stress -Dtest=OpsStateLincheckTest}.
 */
public class OpsStateLincheckTest {
    static final Kernel KERNEL = OpsStateStress.KERNEL;

    static {
        // Warm the private-method handle up before Lincheck runs: a MethodHandle's first calls
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
        return new ModelCheckingOptions()
                .iterations(iterations)
                .invocationsPerIteration(invocations)
                .threads(2)
                .actorsPerThread(2)
                .actorsBefore(1)
                .actorsAfter(1)
                // Lincheck 2.39 cannot track the static MethodHandle of a record (StaticKey.TRUE/FALSE,
                // "can't get base address on a record class"); a static key is constant here anyway
                .addGuarantee(forClasses(StaticKey.class.getName()).allMethods().ignore())
                // the race-point hooks (on rq/DSQ lock acquisition, DSQ insert/remove) read a static
                // key too; no hook is installed here, so they do nothing
                .addGuarantee(forClasses(RacePoint.class.getName()).allMethods().ignore())
                .sequentialSpecification(Spec.class);
    }

    @Test
    public void opsStateMachineIsLinearizable() {
        LinChecker.check(RealOpsStateMachine.class, options(6, 150));
    }

    @Test
    public void brokenOpsStateMachineIsRejected() {
        assertThrows(LincheckAssertionError.class,
                () -> LinChecker.check(BrokenOpsStateMachine.class,
                options(10, 200).minimizeFailedScenario(false)));
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
                ext.dispatchDequeue(rq, p);
                p.scx.flags &= ~SCX_TASK_QUEUED;
                return onDsq + 1;
            } finally {
                rq.lock.unlock();
            }
        }

        /**
         * ext.c: ops_dequeue() without ops.dequeue(), mirroring {@code Ext.opsDequeue} line for line
         * on the real accessors. Not the real method: its QUEUED branch reads a static key
         * ({@code ScxKeys.HAS_DEQUEUE}), and Lincheck 2.39's static-memory snapshot fails on the
         * record {@code StaticKey} ("can't get base address on a record class"), which surfaces as
         * "Non-determinism found". {@code OpsStateStress} runs the real {@code opsDequeue}.
         */
        void opsDequeue() {
            SchedExtEntity s = p.scx;
            long opss = s.laOpsState();
            long state = opss & SCX_OPSS_STATE_MASK;
            if (state == SCX_OPSS_QUEUEING) {
                throw new KernelBug("ops_dequeue: QUEUEING under its rq lock");
            }
            if (state == SCX_OPSS_NONE || state == SCX_OPSS_QUEUED && s.casOpsState(opss, SCX_OPSS_NONE)) {
                return;
            }
            // wait_ops_state(p, SCX_OPSS_DISPATCHING)
            while ((s.laOpsState() & SCX_OPSS_STATE_MASK) == SCX_OPSS_DISPATCHING) {
                Thread.onSpinWait();
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
                OpsStateStress.FINISH_DISPATCH.invokeExact(ext, rq.ctx, rq, p, qseq(q), SCX_DSQ_GLOBAL, 0L);
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
            ext.dispatchEnqueue(ext.globalDsq, p, SCX_ENQ_CLEAR_OPSS);
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
