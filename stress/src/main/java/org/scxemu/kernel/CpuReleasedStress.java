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
 * The {@code cpu_released} protocol (drawn in {@link Rq.ScxRq}), on the emulator's own
 * {@link Ext#scxNextTaskPicked} (a higher class won the pick: {@code ops.cpu_release()} once per
 * window, flag set) and {@link Ext#balanceScx} (SCX regains the CPU: {@code ops.cpu_acquire()},
 * flag cleared), both under CPU 0's rq lock as the kernel runs them.
 *
 * <pre>
 *   thread A: pick path (rq 0 lock)                  thread B: balance path (rq 0 lock)
 *   scx_next_task_picked(rt task, RT) x2             balance_scx(prev = idle):
 *     !cpu_released ? cpu_release(), flag = true        cpu_released ? cpu_acquire(), flag = false
 *     (the second pick of the pair: no release)
 * </pre>
 *
 * <p>Invariants: within one window at most one {@code cpu_release} (two higher-class picks in a
 * row under one lock hold release at most once); {@code cpu_acquire} only after a release;
 * releases and acquires alternate; the flag and the callbacks never disagree (the flag is set iff
 * releases - acquires == 1, checked after every locked section and at quiescence). The callbacks
 * check the flag as they run ({@code cpu_release} with the flag already set, {@code cpu_acquire}
 * without it: a violation) and count violations; any violation is FORBIDDEN.
 *
 * <p>Set-up, and why the outcomes are not per-sample interleavings: the protocol state is
 * {@code rq->scx.cpu_released} of a real {@code Rq}, and an {@code Rq} is too costly to build per
 * sample (two HdrHistograms, about 540 KB), so every sample shares {@code KERNEL.rq(0)}. jcstress
 * runs each actor over an array of states without pairing them, so the flag a sample starts from
 * is whatever the previous calls left. The per-sample results are therefore "what this call did"
 * (both values possible in any combination), and the invariants are global ones the callbacks and
 * the arbiter check at every step. The two callbacks need a loaded scheduler: {@link Rel}, with
 * only {@code cpu_acquire} / {@code cpu_release}, is loaded once on {@link #KERNEL} in the class
 * initializer (one scheduler per JVM; jcstress runs each test in its own VM).
 *
 * <p>How to run (after {@code mvn -B -ntp package -DskipTests}):
 * <pre>
 *   java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -jvmArgs "--add-opens java.base/jdk.internal.misc=ALL-UNNAMED" -t CpuReleasedStress
 * </pre>
 *
 * <p>Teeth: {@code BrokenCpuReleasedStress} (test tree) drops the {@code !cpu_released} test
 * from the pick: every sample FORBIDDEN ("2, ..."), see its header. A logic error, caught on x86
 * as anywhere; both transitions run under the rq lock, so there is no ordering weakening to show.
 *
 * <h2>Observed</h2>
 * JDK 17.0.15 (Debian), 2-core AMD EPYC KVM guest (x86-64), jcstress 0.16, 2026-11-25, other builds
 * sharing the machine. CI's quick mode ({@code -m quick -sc false}, both biased-locking
 * configurations summed; what {@code run-jcstress.sh} runs; the whole 9-test suite in 35 to 50 s).
 * Only observed states are listed: every FORBIDDEN row, including the catch-all, saw 0 samples.
 * <pre>
 * CpuReleasedStress.PickVsBalance  [OK]
 *   0, 0, 0     1,423,866   91.68%  Acceptable  picks found the window open; balance found it closed
 *   0, 1, 0        60,797    3.91%  Acceptable  picks found the window open; balance closed it
 *   1, 0, 0        60,797    3.91%  Acceptable  1st pick opened it, 2nd sent nothing; balance found none
 *   1, 1, 0         7,635    0.49%  Acceptable  1st pick opened it, 2nd sent nothing; balance closed it
 * </pre>
 * Default mode (1 normal + 5 stress forks, split compilation, 5 x 1 s iterations; all 7 new tests
 * together in 13 min 56 s, sharing the machine with other builds):
 * <pre>
 * CpuReleasedStress.PickVsBalance  [OK]
 *   0, 0, 0   212,476,529   82.98%  Acceptable  picks found the window open; balance found it closed
 *   0, 1, 0    19,558,677    7.64%  Acceptable  picks found the window open; balance closed it
 *   1, 0, 0    19,558,686    7.64%  Acceptable  1st pick opened it, 2nd sent nothing; balance found none
 *   1, 1, 0     4,471,986    1.75%  Acceptable  1st pick opened it, 2nd sent nothing; balance closed it
 * </pre>
 */
public final class CpuReleasedStress {
    private CpuReleasedStress() {
    }

    /** The kernel every state hangs off; {@link #REL} is loaded on it once. */
    static final Kernel KERNEL = new Kernel(2, new Clock.Manual());
    static final Rq RQ = KERNEL.rq(0);
    static final Rel REL = new Rel();
    static final Task RT = new Task(90, "rt", Task.SCHED_FIFO, 0, false, CpuMask.of(0), null, 0);

    static {
        int ret = KERNEL.ext.enable(REL);
        if (ret != 0 || !KERNEL.ext.cpuPreemptEnabled()) {
            throw new ExceptionInInitializerError("could not load the cpu_release scheduler: " + ret);
        }
    }

    /**
     * The minimal scheduler: records cpu_release / cpu_acquire and checks them against the flag.
     * All fields are touched only under RQ's lock (the callbacks run under it).
     */
    static final class Rel implements SchedExtOps {
        long releases;
        long acquires;
        int violations;

        @Override
        public String name() {
            return "stress_rel";
        }

        @Override
        public void cpuRelease(int cpu, CpuReleaseArgs a) {
            if (RQ.scx.lpCpuReleased() || releases != acquires) {
                violations++; // a second release in one window
            }
            releases++;
        }

        @Override
        public void cpuAcquire(int cpu, CpuAcquireArgs a) {
            if (!RQ.scx.lpCpuReleased() || releases != acquires + 1) {
                violations++; // acquire without a release
            }
            acquires++;
        }

        /** The flag agrees with the callbacks (rq lock held). */
        void check() {
            if (RQ.scx.lpCpuReleased() != (releases - acquires == 1)) {
                violations++;
            }
        }
    }

    /**
     * Two higher-class picks in a row (one lock hold) against a balance. Result: r1 = releases
     * the two picks sent, r2 = acquires the balance sent, r3 = 1 once any violation was seen.
     */
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
                KERNEL.ext.scxNextTaskPicked(RQ, RT, SchedClass.RT);
                REL.check();
                KERNEL.ext.scxNextTaskPicked(RQ, RT, SchedClass.RT);
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
