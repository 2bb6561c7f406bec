// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;
import static org.scxemu.scx.Scx.SCX_ENQ_CLEAR_OPSS;
import static org.scxemu.scx.Scx.SCX_OPSS_DISPATCHING;
import static org.scxemu.scx.Scx.SCX_OPSS_NONE;
import static org.scxemu.scx.Scx.SCX_OPSS_QUEUED;
import static org.scxemu.scx.Scx.SCX_OPSS_QUEUEING;
import static org.scxemu.scx.Scx.SCX_OPSS_STATE_MASK;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * Deliberately broken variant of {@link OpsStateStress.StaleQseq}: the teeth of that suite. The
 * dispatcher runs a copy of {@code finish_dispatch()}'s claim without the qseq check (it claims
 * any QUEUED instance); everything else (the real {@code opsDequeue}, {@code dispatchEnqueue},
 * {@code dispatchDequeue}, the same outcome table) is {@link OpsStateStress}'s.
 *
 * <p>Test tree on purpose: never in {@code jcstress.jar}, so CI never runs it. Run by hand:
 * <pre>
 *   mvn -B -ntp -o package -DskipTests -pl stress -am
 *   cd stress/target &amp;&amp; java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED \
 *       -cp test-classes:jcstress.jar org.openjdk.jcstress.Main -m quick \
 *       -jvmArgs "--add-opens java.base/jdk.internal.misc=ALL-UNNAMED" -t BrokenOpsStateStress
 * </pre>
 *
 * <h2>What x86 can and cannot show</h2>
 * This bug is a logic race, not a memory-ordering one: x86 catches it as readily as any machine
 * (the dispatcher only has to read QUEUED|QSEQ2 after the re-enqueue). The ordering weakenings of
 * this protocol (a plain instead of release store of QUEUED or NONE, a plain instead of acquire
 * load in wait_ops_state()) are like {@code BrokenPntSeqStress}'s: on x86 only the JIT's own
 * reordering can show them; the cmpxchg itself is a full fence on x86 whatever Java mode it has.
 *
 * <h2>Observed</h2>
 * JDK 17.0.15 (Debian), 2-core AMD EPYC KVM guest (x86-64), jcstress 0.16 quick mode
 * ({@code -m quick -sc false}, both biased-locking configurations summed), 2026-11-25; 17 s:
 * <pre>
 * BrokenOpsStateStress.StaleQseq  [FAILED]
 *   0, 0, 0, 10           307    0.05%  Acceptable  dispatch after dequeue: NONE/QUEUEING/QSEQ2; dropped
 *    0, 1, 1, 0       150,034   22.57%   Forbidden  stale dispatch claimed the re-enqueued p (qseq ignored)
 *   1, 1, 0, 10       514,469   77.39%  Acceptable  dispatch claimed QSEQ1 first; dequeue waited, unlinked p
 * </pre>
 * The real {@code finish_dispatch()} on the same machine: 0 of 1,439,782 samples in that row
 * ({@link OpsStateStress}). The checker's teeth for the same bug are also asserted in the build:
 * {@code OpsStateLincheckTest.brokenOpsStateMachineIsRejected}.
 */
public final class BrokenOpsStateStress {
    private BrokenOpsStateStress() {
    }

    static final Kernel KERNEL = OpsStateStress.KERNEL;

    /** finish_dispatch() without {@code if ((opss & SCX_OPSS_QSEQ_MASK) != qseq_at_dispatch) return}. */
    static void brokenDispatch(Ext ext, Task p) {
        Rq rq = KERNEL.rq(1);
        rq.lock.lock();
        try {
            SchedExtEntity s = p.scx;
            for (;;) {
                long opss = s.readOnceOpsState();
                long state = opss & SCX_OPSS_STATE_MASK;
                if (state == SCX_OPSS_DISPATCHING || state == SCX_OPSS_NONE) {
                    return;
                }
                if (state == SCX_OPSS_QUEUED) {
                    if (s.casOpsState(opss, SCX_OPSS_DISPATCHING)) {
                        break;
                    }
                    continue;
                }
                Thread.onSpinWait();
            }
            ext.dispatch.dispatchEnqueue(ext.globalDsq, p, SCX_ENQ_CLEAR_OPSS);
        } finally {
            rq.lock.unlock();
        }
    }

    /** {@link OpsStateStress.StaleQseq} with the broken dispatch. */
    @JCStressTest
    @Outcome(id = "0, 0, 0, 10", expect = ACCEPTABLE, desc = "dispatch after dequeue: NONE/QUEUEING/QSEQ2; dropped")
    @Outcome(id = "1, 1, 0, 10", expect = ACCEPTABLE, desc = "dispatch claimed QSEQ1 first; dequeue waited, unlinked p")
    @Outcome(id = "0, 1, 1, .*", expect = FORBIDDEN,  desc = "stale dispatch claimed the re-enqueued p (qseq ignored)")
    @Outcome(expect = FORBIDDEN,                      desc = "lost, duplicated or a stuck ops_state")
    @State
    public static class StaleQseq {
        final Ext ext = new Ext(KERNEL);
        final Task p = OpsStateStress.queuedTask();

        @Actor
        public void dispatcher() {
            brokenDispatch(ext, p);
        }

        @Actor
        public void dequeuer(IIII_Result r) {
            Rq rq = KERNEL.rq(0);
            rq.lock.lock();
            try {
                r.r1 = OpsStateStress.dequeue(ext, p);
                p.scx.writeOnceOpsState(SCX_OPSS_QUEUEING | OpsStateStress.QSEQ2);
                p.scx.soOpsState(SCX_OPSS_QUEUED | OpsStateStress.QSEQ2);
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
