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
import org.scxemu.scx.SchedExtOps;

/**
 * Deliberately broken variant of {@link CpuReleasedStress.PickVsBalance}: the teeth of that suite.
 * The pick path is {@code scx_next_task_picked()}'s release step without its
 * {@code if (!rq->scx.cpu_released)} test (it releases on every higher-class pick); the balance is
 * the real {@link Ext#balanceScx}, the scheduler and the checks are {@link CpuReleasedStress}'s.
 *
 * <p>Test tree on purpose: never in {@code jcstress.jar}. Run by hand:
 * <pre>
 *   mvn -B -ntp -o package -DskipTests -pl stress -am
 *   cd stress/target &amp;&amp; java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED \
 *       -cp test-classes:jcstress.jar org.openjdk.jcstress.Main -m quick \
 *       -jvmArgs "--add-opens java.base/jdk.internal.misc=ALL-UNNAMED" -t BrokenCpuReleasedStress
 * </pre>
 * A logic error, caught on x86 as on any machine; both transitions run under the rq lock, so this
 * protocol has no ordering weakening to show.
 *
 * <h2>Observed</h2>
 * JDK 17.0.15 (Debian), 2-core AMD EPYC KVM guest (x86-64), jcstress 0.16 quick mode
 * ({@code -m quick -sc false}, both biased-locking configurations summed), 2026-11-25, while a
 * default-mode run shared the machine. That run reported r3 as the raw violation count (since
 * changed to 0/1, which made every sample a distinct state); summed by (r1, r2, r3 &gt; 0):
 * <pre>
 * BrokenCpuReleasedStress.PickVsBalance  [FAILED]
 *   2, 0, 1     212,707   97.25%   Forbidden  two releases in one window
 *   2, 1, 1       6,021    2.75%   Forbidden  two releases in one window
 * </pre>
 * Every sample FORBIDDEN: each pair of picks released twice, and the callbacks' check saw the
 * second release with the flag already set. The real pick path: 0 FORBIDDEN ({@link CpuReleasedStress}).
 */
public final class BrokenCpuReleasedStress {
    private BrokenCpuReleasedStress() {
    }

    static final Kernel KERNEL = CpuReleasedStress.KERNEL;
    static final Rq RQ = CpuReleasedStress.RQ;
    static final CpuReleasedStress.Rel REL = CpuReleasedStress.REL;

    /** The release step of scx_next_task_picked() without the cpu_released test. */
    static void brokenPick() {
        REL.cpuRelease(RQ.cpu, new SchedExtOps.CpuReleaseArgs(0, CpuReleasedStress.RT));
        RQ.scx.writeOnceCpuReleased(true);
    }

    @JCStressTest
    @Outcome(id = "0, 0, 0", expect = ACCEPTABLE, desc = "picks found the window open; balance found it closed")
    @Outcome(id = "0, 1, 0", expect = ACCEPTABLE, desc = "picks found the window open; balance closed it")
    @Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "1st pick opened it, 2nd sent nothing; balance found none")
    @Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "1st pick opened it, 2nd sent nothing; balance closed it")
    @Outcome(id = "2, .*",   expect = FORBIDDEN,  desc = "two releases in one window")
    @Outcome(expect = FORBIDDEN,                  desc = "acquire without release, or flag and callbacks disagree")
    @State
    public static class PickVsBalance {
        @Actor
        public void pick(III_Result r) {
            RQ.lock.lock();
            try {
                long before = REL.releases;
                brokenPick();
                REL.check();
                brokenPick();
                REL.check();
                r.r1 = (int) (REL.releases - before);
            } finally {
                RQ.lock.unlock();
            }
        }

        @Actor
        public void balance(III_Result r) {
            RQ.lock.lock();
            try {
                long before = REL.acquires;
                KERNEL.ext.balanceScx(RQ, RQ.idle);
                REL.check();
                r.r2 = (int) (REL.acquires - before);
            } finally {
                RQ.lock.unlock();
            }
        }

        @Arbiter
        public void arbiter(III_Result r) {
            RQ.lock.lock();
            try {
                REL.check();
                r.r3 = REL.violations == 0 ? 0 : 1;
            } finally {
                RQ.lock.unlock();
            }
        }
    }
}
