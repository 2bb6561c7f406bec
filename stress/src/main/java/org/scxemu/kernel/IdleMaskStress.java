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
import org.openjdk.jcstress.infra.results.ZZZ_Result;

/**
 * The built-in idle mask, on the emulator's own {@link ExtIdle#testAndClearCpuIdle} and
 * {@link ExtIdle#scxPickIdleCpu} ({@code ExtIdle.idleCpu}, an {@code AtomicLongArray} bitmap).
 *
 * <pre>
 *   CPU 0 (waker, select_cpu)                      CPU 1 (waker, select_cpu)
 *   test_and_clear_cpu_idle(1):                    test_and_clear_cpu_idle(1):
 *     old = idle[0]; if !(old &amp; bit) lose            old = idle[0]; if !(old &amp; bit) lose
 *     cmpxchg(idle[0], old, old &amp; ~bit) ---+ +--- cmpxchg(idle[0], old, old &amp; ~bit)
 *                                          exactly one cmpxchg clears the bit
 * </pre>
 *
 * <p>Invariants:
 * <ul>
 *   <li>{@link ClaimSameCpu}: two CPUs claiming the same idle CPU: exactly one wins, and the bit
 *       is clear afterwards. Two winners would put two wakees on one CPU believing it idle.
 *   <li>{@link PickIdle}: two CPUs each picking any idle CPU out of {0, 1} (both idle) with
 *       {@code scx_pick_idle_cpu()}: they get different CPUs, neither gets -EBUSY (a lost race
 *       retries), and the mask is empty afterwards.
 * </ul>
 *
 * <p>Each state owns a fresh {@link Ext} on the shared {@link #KERNEL} (the idle mask is an Ext
 * field; an {@code Ext} costs a few hundred ns, a {@code Kernel} about 48 us). {@code new Ext}
 * re-sets {@code SCX_RQ_ONLINE} in the shared rqs' flags: racy but benign, the bit is already set
 * and nothing in these tests reads it. No scheduler is loaded: the idle functions need none.
 *
 * <p>How to run (after {@code mvn -B -ntp package -DskipTests}):
 * <pre>
 *   java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED -jar stress/target/jcstress.jar \
 *       -jvmArgs "--add-opens java.base/jdk.internal.misc=ALL-UNNAMED" -t IdleMaskStress
 * </pre>
 * CI runs it with the rest of the suite in quick mode ({@code stress/run-jcstress.sh}).
 *
 * <h2>Observed</h2>
 * JDK 17.0.15 (Debian), 2-core AMD EPYC KVM guest (x86-64), jcstress 0.16, 2026-11-25, other builds
 * sharing the machine. CI's quick mode ({@code -m quick -sc false}, both biased-locking
 * configurations summed; what {@code run-jcstress.sh} runs; the whole 9-test suite in 35 to 50 s).
 * Only observed states are listed: every FORBIDDEN row, including the catch-all, saw 0 samples.
 * <pre>
 * IdleMaskStress.ClaimSameCpu  [OK]
 *   false, true, false       963,330   40.96%  Acceptable  CPU 1's cmpxchg won, CPU 0 saw it clear
 *   true, false, false     1,388,560   59.04%  Acceptable  CPU 0's cmpxchg won, CPU 1 saw it clear
 * IdleMaskStress.PickIdle  [OK]
 *   0, 1, 0     1,581,606   58.37%  Acceptable  CPU 0 claimed 0 (first, or won 0), CPU 1 got 1
 *   1, 0, 0     1,127,936   41.63%  Acceptable  CPU 0 claimed 1 (rotor moved, or lost 0), CPU 1 got 0
 * </pre>
 * Default mode (1 normal + 5 stress forks, split compilation, 5 x 1 s iterations; all 7 new tests
 * together in 13 min 56 s, sharing the machine with other builds):
 * <pre>
 * IdleMaskStress.ClaimSameCpu  [OK]
 *   false, true, false   162,566,726   52.64%  Acceptable  CPU 1's cmpxchg won, CPU 0 saw it clear
 *   true, false, false   146,286,352   47.36%  Acceptable  CPU 0's cmpxchg won, CPU 1 saw it clear
 * IdleMaskStress.PickIdle  [OK]
 *   0, 1, 0   147,193,746   64.59%  Acceptable  CPU 0 claimed 0 (first, or won 0), CPU 1 got 1
 *   1, 0, 0    80,691,652   35.41%  Acceptable  CPU 0 claimed 1 (rotor moved, or lost 0), CPU 1 got 0
 * </pre>
 */
public final class IdleMaskStress {
    private IdleMaskStress() {
    }

    /** The kernel every state hangs off (see {@code PntSeqStress} for why one per JVM). */
    static final Kernel KERNEL = new Kernel(2, new Clock.Manual());

    /**
     * CPU 0 and CPU 1 both try to claim idle CPU 1 ({@code scx_select_cpu_dfl()}'s
     * {@code test_and_clear_cpu_idle(prev_cpu)}). Result: r1 = CPU 0 won, r2 = CPU 1 won,
     * r3 = CPU 1 still idle afterwards.
     */
    @JCStressTest
    @Outcome(id = "true, false, false", expect = ACCEPTABLE, desc = "CPU 0's cmpxchg won, CPU 1 saw it clear")
    @Outcome(id = "false, true, false", expect = ACCEPTABLE, desc = "CPU 1's cmpxchg won, CPU 0 saw it clear")
    @Outcome(id = "true, true, .*",     expect = FORBIDDEN,  desc = "both claimed the same idle CPU")
    @Outcome(expect = FORBIDDEN,                             desc = "nobody claimed it, or the bit survived a claim")
    @State
    public static class ClaimSameCpu {
        final Ext ext = new Ext(KERNEL);

        public ClaimSameCpu() {
            ext.idle.resetIdleMasks();
        }

        @Actor
        public void cpu0(ZZZ_Result r) {
            r.r1 = ext.idle.testAndClearCpuIdle(1);
        }

        @Actor
        public void cpu1(ZZZ_Result r) {
            r.r2 = ext.idle.testAndClearCpuIdle(1);
        }

        @Arbiter
        public void arbiter(ZZZ_Result r) {
            r.r3 = ext.idle.testCpuIdle(1);
        }
    }

    /**
     * CPU 0 and CPU 1 each pick an idle CPU out of {0, 1}, both idle, with
     * {@code scx_pick_idle_cpu()} (scan from the distribute rotor, then claim; retry on a lost
     * claim). Result: r1 = CPU 0's pick, r2 = CPU 1's pick, r3 = CPUs still idle afterwards.
     */
    @JCStressTest
    @Outcome(id = "0, 1, 0", expect = ACCEPTABLE, desc = "CPU 0 claimed 0 (first, or won 0), CPU 1 got 1")
    @Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "CPU 0 claimed 1 (rotor moved, or lost 0), CPU 1 got 0")
    @Outcome(id = "0, 0, .*", expect = FORBIDDEN,  desc = "both claimed CPU 0")
    @Outcome(id = "1, 1, .*", expect = FORBIDDEN,  desc = "both claimed CPU 1")
    @Outcome(expect = FORBIDDEN,                   desc = "-EBUSY with an idle CPU left, or a claimed bit survived")
    @State
    public static class PickIdle {
        final Ext ext = new Ext(KERNEL);
        final CpuMask allowed = CpuMask.of(0, 1);

        public PickIdle() {
            ext.idle.resetIdleMasks();
        }

        @Actor
        public void cpu0(III_Result r) {
            r.r1 = ext.idle.scxPickIdleCpu(null, allowed, 0);
        }

        @Actor
        public void cpu1(III_Result r) {
            r.r2 = ext.idle.scxPickIdleCpu(null, allowed, 0);
        }

        @Arbiter
        public void arbiter(III_Result r) {
            r.r3 = (ext.idle.testCpuIdle(0) ? 1 : 0) + (ext.idle.testCpuIdle(1) ? 1 : 0);
        }
    }
}
