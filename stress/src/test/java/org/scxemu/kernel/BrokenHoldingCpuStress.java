// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * BROKEN on purpose (test tree only, never in jcstress.jar): {@link HoldingCpuStress} with a
 * consumer that unlinks the task and sets {@code holding_cpu} like unlink_dsq_and_lock_src_rq()
 * but does not re-check {@code holding_cpu} after taking rq 0's lock, so it "wins" even when a
 * dequeue reset it in between. The race is a logic race: x86 shows it as any machine would.
 *
 * <p>Run by hand:
 * <pre>
 *   cd stress/target &amp;&amp; java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED \
 *       -cp test-classes:jcstress.jar org.openjdk.jcstress.Main -m quick \
 *       -jvmArgs "--add-opens java.base/jdk.internal.misc=ALL-UNNAMED" -t BrokenHoldingCpuStress
 * </pre>
 *
 * <h2>Observed</h2>
 * Quick mode, JDK 17.0.15, 2-core x86-64 KVM guest, 2026-11-25 (two JVM configurations):
 * <pre>
 *   [FAILED] org.scxemu.kernel.BrokenHoldingCpuStress.NoRecheck
 *     1, 0, 0, -1  1,810,642   79.36%  Acceptable  consumer first and alone
 *     1, 1, 0, -1    137,678    6.03%   Forbidden  both own the task: the missing re-check
 *     2, 1, 0, -1    333,171   14.60%  Acceptable  dequeue first
 *   [FAILED] org.scxemu.kernel.BrokenHoldingCpuStress.NoRecheck
 *     1, 0, 0, -1    465,657   12.26%  Acceptable  consumer first and alone
 *     1, 1, 0, -1    145,553    3.83%   Forbidden  both own the task: the missing re-check
 *     2, 1, 0, -1  3,185,801   83.90%  Acceptable  dequeue first
 * </pre>
 */
public class BrokenHoldingCpuStress {
    @JCStressTest
    @Outcome(id = "1, 0, 0, -1", expect = ACCEPTABLE, desc = "consumer first and alone")
    @Outcome(id = "2, 1, 0, -1", expect = ACCEPTABLE, desc = "dequeue first")
    @Outcome(id = "1, 1, 0, -1", expect = FORBIDDEN, desc = "both own the task: the missing re-check")
    @Outcome(expect = FORBIDDEN, desc = "anything else")
    @State
    public static class NoRecheck {
        final Dsq dsq = new Dsq(0x5eedL, null);
        final Task p = new Task(7, "p", Task.SCHED_EXT, 0, false, CpuMask.of(0, 1), null, 0);

        public NoRecheck() {
            HoldingCpuStress.EXT.dispatch.dispatchEnqueue(dsq, p, 0);
        }

        @Actor
        public void consumer(IIII_Result r) {
            dsq.lock.lock();
            if (dsq.first() != p) {
                dsq.lock.unlock();
                r.r1 = HoldingCpuStress.NOT_FOUND;
                return;
            }
            dsq.unlink(p);
            p.scx.writeOnceHoldingCpu(1);
            dsq.lock.unlock();
            Rq rq0 = HoldingCpuStress.RQ0;
            rq0.lock.lock();
            try {
                HoldingCpuStress.EXT.dispatch.dispatchDequeue(rq0, p); // no holding_cpu re-check: always "won"
            } finally {
                rq0.lock.unlock();
            }
            r.r1 = HoldingCpuStress.WON;
        }

        @Actor
        public void dequeue(IIII_Result r) {
            Rq rq0 = HoldingCpuStress.RQ0;
            rq0.lock.lock();
            try {
                r.r2 = p.scx.dsq != null ? 1 : 0;
                HoldingCpuStress.EXT.dispatch.dispatchDequeue(rq0, p);
            } finally {
                rq0.lock.unlock();
            }
        }

        @Arbiter
        public void arbiter(IIII_Result r) {
            dsq.lock.lock();
            try {
                r.r3 = dsq.lpNr() + (p.scx.dsq != null ? 100 : 0) + (dsq.first() != null ? 1000 : 0);
            } finally {
                dsq.lock.unlock();
            }
            r.r4 = p.scx.readOnceHoldingCpu();
        }
    }
}
