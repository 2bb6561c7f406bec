// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZZ_Result;

/**
 * Deliberately broken variant of {@link IdleMaskStress.ClaimSameCpu}: the teeth of that suite. The
 * claim is {@code test_and_clear_cpu_idle()} with the cmpxchg replaced by a test, then a store
 * (a check-then-act on the real {@code ExtIdle.idleCpu} bitmap); same outcome table.
 *
 * <p>Test tree on purpose: never in {@code jcstress.jar}, so CI never runs it. Run by hand:
 * <pre>
 *   mvn -B -ntp -o package -DskipTests -pl stress -am
 *   cd stress/target &amp;&amp; java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED \
 *       -cp test-classes:jcstress.jar org.openjdk.jcstress.Main -m quick \
 *       -jvmArgs "--add-opens java.base/jdk.internal.misc=ALL-UNNAMED" -t BrokenIdleMaskStress
 * </pre>
 *
 * <h2>What x86 can and cannot show</h2>
 * A lost atomicity (two CPUs both reading the bit set before either clears it) is a logic race,
 * caught on x86 as on any machine. A weakened ordering of the bitmap accesses cannot be shown here:
 * the claim is a single-word cmpxchg and nothing else is published through it.
 *
 * <h2>Observed</h2>
 * JDK 17.0.15 (Debian), 2-core AMD EPYC KVM guest (x86-64), jcstress 0.16 quick mode
 * ({@code -m quick -sc false}, both biased-locking configurations summed), 2026-11-25; 17 s,
 * while a default-mode run shared the machine (jcstress then ends with "TEST FAILURES: ...
 * Observed forbidden state", its normal report of a FAILED test):
 * <pre>
 * BrokenIdleMaskStress.ClaimSameCpu  [FAILED]
 *   false, true, false       305,557   40.88%  Acceptable  CPU 1's cmpxchg won, CPU 0 saw it clear
 *   true, false, false       375,503   50.24%  Acceptable  CPU 0's cmpxchg won, CPU 1 saw it clear
 *    true, true, false        66,302    8.87%   Forbidden  both claimed the same idle CPU
 * </pre>
 * The real {@code testAndClearCpuIdle} on the same machine: 0 of 2,351,890 ({@link IdleMaskStress}).
 */
public final class BrokenIdleMaskStress {
    private BrokenIdleMaskStress() {
    }

    /** test_and_clear_cpu_idle() without the cmpxchg: test, then store. */
    static boolean brokenTestAndClear(Ext ext, int cpu) {
        long bit = 1L << cpu;
        long old = ext.idle.idleCpu.get(cpu >>> 6);
        if ((old & bit) == 0) {
            return false;
        }
        ext.idle.idleCpu.set(cpu >>> 6, old & ~bit);
        return true;
    }

    @JCStressTest
    @Outcome(id = "true, false, false", expect = ACCEPTABLE, desc = "CPU 0's cmpxchg won, CPU 1 saw it clear")
    @Outcome(id = "false, true, false", expect = ACCEPTABLE, desc = "CPU 1's cmpxchg won, CPU 0 saw it clear")
    @Outcome(id = "true, true, .*",     expect = FORBIDDEN,  desc = "both claimed the same idle CPU")
    @Outcome(expect = FORBIDDEN,                             desc = "nobody claimed it, or the bit survived a claim")
    @State
    public static class ClaimSameCpu {
        final Ext ext = new Ext(IdleMaskStress.KERNEL);

        public ClaimSameCpu() {
            ext.idle.resetIdleMasks();
        }

        @Actor
        public void cpu0(ZZZ_Result r) {
            r.r1 = brokenTestAndClear(ext, 1);
        }

        @Actor
        public void cpu1(ZZZ_Result r) {
            r.r2 = brokenTestAndClear(ext, 1);
        }

        @Arbiter
        public void arbiter(ZZZ_Result r) {
            r.r3 = ext.idle.testCpuIdle(1);
        }
    }
}
