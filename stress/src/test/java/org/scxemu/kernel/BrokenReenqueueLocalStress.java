// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;
import static org.scxemu.scx.Scx.SCX_DSQ_LOCAL;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * BROKEN on purpose (test tree only, never in jcstress.jar): {@link ReenqueueLocalStress} with a
 * re-enqueue loop that re-reads {@code nr} every round instead of snapshotting it. Every task comes
 * straight back, so the loop would never end; it is capped at 10 rounds here so the test reports
 * the runaway as an outcome ("10, ...") instead of hanging.
 *
 * <p>Run by hand:
 * <pre>
 *   cd stress/target &amp;&amp; java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED \
 *       -cp test-classes:jcstress.jar org.openjdk.jcstress.Main -m quick \
 *       -jvmArgs "--add-opens java.base/jdk.internal.misc=ALL-UNNAMED" -t BrokenReenqueueLocalStress
 * </pre>
 *
 * <h2>Observed</h2>
 * Quick mode, JDK 17.0.15, 2-core x86-64 KVM guest, 2026-11-25 (two JVM configurations): every
 * sample ran away.
 * <pre>
 *   [FAILED] NoSnapshot     10, 3, 123  679,396  92.40%  Forbidden
 *                           10, 3, 231   55,855   7.60%  Forbidden
 *   [FAILED] NoSnapshot     10, 3, 123  886,952  97.54%  Forbidden
 *                           10, 3, 231   22,379   2.46%  Forbidden
 * </pre>
 */
public class BrokenReenqueueLocalStress {
    @JCStressTest
    @Outcome(id = {"3, 3, 123", "2, 3, 123"}, expect = ACCEPTABLE, desc = "bounded by a snapshot")
    @Outcome(expect = FORBIDDEN, desc = "the loop ran away (capped at 10 rounds)")
    @State
    public static class NoSnapshot {
        final Dsq local = new Dsq(SCX_DSQ_LOCAL, ReenqueueLocalStress.RQ0);
        final Task a = new Task(1, "t1", Task.SCHED_EXT, 0, false, CpuMask.of(0, 1), null, 0);
        final Task b = new Task(2, "t2", Task.SCHED_EXT, 0, false, CpuMask.of(0, 1), null, 0);
        final Task q = new Task(3, "t3", Task.SCHED_EXT, 0, false, CpuMask.of(0, 1), null, 0);

        public NoSnapshot() {
            Rq rq0 = ReenqueueLocalStress.RQ0;
            rq0.lock.lock();
            try {
                ReenqueueLocalStress.EXT.dispatch.dispatchEnqueue(local, a, 0);
                ReenqueueLocalStress.EXT.dispatch.dispatchEnqueue(local, b, 0);
            } finally {
                rq0.lock.unlock();
            }
        }

        @Actor
        public void cpuRelease(III_Result r) {
            Rq rq0 = ReenqueueLocalStress.RQ0;
            Ext ext = ReenqueueLocalStress.EXT;
            rq0.lock.lock();
            try {
                int i = 0;
                while (local.lpNr() > 0 && i < 10) { // no snapshot: nr is re-read each round
                    Task p = local.first();
                    ext.dispatch.dispatchDequeue(rq0, p);
                    ext.dispatch.dispatchEnqueue(local, p, 0);
                    i++;
                }
                r.r1 = i;
            } finally {
                rq0.lock.unlock();
            }
        }

        @Actor
        public void remoteInsert() {
            Rq rq0 = ReenqueueLocalStress.RQ0;
            rq0.lock.lock();
            try {
                ReenqueueLocalStress.EXT.dispatch.dispatchEnqueue(local, q, 0);
            } finally {
                rq0.lock.unlock();
            }
        }

        @Arbiter
        public void arbiter(III_Result r) {
            Rq rq0 = ReenqueueLocalStress.RQ0;
            rq0.lock.lock();
            try {
                r.r2 = local.lpNr();
                int order = 0;
                for (Task t = local.first(); t != null; t = t.scx.dsqNext) {
                    order = order * 10 + t.pid;
                }
                r.r3 = order;
            } finally {
                rq0.lock.unlock();
            }
        }
    }
}
