// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.scxemu.harness.Machine;
import org.scxemu.kernel.Config;
import org.scxemu.kernel.ScxKeys;
import org.scxemu.scx.SchedExtOps.CpuReleaseArgs;
import org.scxemu.scx.SchedExtOps;

/**
 * The seed's {@code cpu_release} check on the real pick path, in its four builds, in one run.
 *
 * <p>{@link StaticKeyBench} measures the guard alone; this measures it where it lives. One
 * operation is one full scheduling cycle of a stepped one-CPU {@link Machine} whose two tasks
 * yield every time they run (as {@link PickPathBench}): {@code put_prev_task_scx()},
 * {@code balance_scx()} (whose first test is the seed's {@code cpu_acquire} check),
 * {@code pick_next_task_scx()}, {@code scx_next_task_picked()} (the {@code pnt_seq} release store,
 * then the {@code cpu_release} check) and the context switch. The check runs twice per operation,
 * in the kernel's own code ({@code Ext.cpuPreemptEnabled()}); nothing here reimplements it. The
 * variants differ only in that check:
 *
 * <ol>
 *   <li>{@link #compiledOut}: {@code -Dscx.config.cpu_preempt=false}, so {@code Config.CPU_PREEMPT}
 *       (a {@code static final}) folds the feature away: the baseline;
 *   <li>{@link #keyOff}: the same minimal scheduler with the feature compiled in: it has no
 *       {@code cpu_acquire}/{@code cpu_release}, so the {@code scx_ops_cpu_preempt} static key is
 *       off. The design's claim is that this equals the baseline;
 *   <li>{@link #keyOn}: the same scheduler plus a no-op {@code cpu_release}: the key is on, and no
 *       higher class ever runs, so the check passes, the class test fails and nothing is called;
 *   <li>{@link #flagTest}: {@code -Dscx.config.cpu_preempt_check=flag} with the no-op
 *       {@code cpu_release} scheduler: 6.16's plain load and test of {@code SCX_OPS_HAS_CPU_PREEMPT}
 *       in the ops flags instead of the key.
 * </ol>
 *
 * <p>Every variant runs the same two tasks, the same ops (the minimal scheduler: global DSQ only)
 * and the same number of cycles; only the {@code cpu_*} op and the JVM flags differ. Only one
 * scheduler may be loaded per JVM, so each trial loads in {@code @Setup(Level.Trial)} and unloads in
 * {@code @TearDown}; JMH forks per benchmark method, so each variant has its own JVM (which the
 * {@code static final} configuration needs anyway). The set-up fails unless the JVM is configured
 * as the variant's name says, and the tear-down fails on a kernel BUG, an ejection, or a switch
 * count that differs from the operation count.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar CpuPreemptFastPathBench -prof gc}.
 * Results and JIT output: {@code benchmarks/README.md}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 10, time = 1)
@Fork(value = 3, jvmArgsAppend = "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED")
public class CpuPreemptFastPathBench {
    /** The minimal scheduler (name only: global DSQ, no cpu_* ops): the seed's key stays off. */
    static class Minimal implements SchedExtOps {
        @Override
        public String name() {
            return "minimal";
        }
    }

    /** The minimal scheduler plus a no-op cpu_release: the seed's key (or 6.16's flag) is on. */
    static final class NoopCpuRelease extends Minimal {
        @Override
        public void cpuRelease(int cpu, CpuReleaseArgs args) {
            // nothing: only the check's cost is measured
        }
    }

    /** One stepped CPU running two yielding tasks under {@link #ops()}; see the class comment. */
    @State(Scope.Thread)
    public abstract static class Cycle {
        private YieldCycle yc;
        private Machine machine;
        /** Operations run (one add per op), checked against the context switches at tear-down. */
        long cycles;

        abstract SchedExtOps ops();

        @Setup(Level.Trial)
        public void load(BenchmarkParams params) {
            SchedExtOps ops = ops();
            yc = YieldCycle.load(ops, 2);
            machine = yc.machine;
            checkVariant(params.getBenchmark(), ops);
            cycles = 0;
        }

        /** Fails unless the JVM's configuration is the one the benchmark's name promises. */
        private static void checkVariant(String benchmark, SchedExtOps ops) {
            String variant = benchmark.substring(benchmark.lastIndexOf('.') + 1);
            boolean key = ScxKeys.SCX_OPS_CPU_PREEMPT.enabled();
            boolean release = ops instanceof NoopCpuRelease;
            boolean ok;
            switch (variant) {
                case "compiledOut":
                    ok = !Config.CPU_PREEMPT && !release;
                    break;
                case "keyOff":
                    ok = Config.CPU_PREEMPT && !Config.CPU_PREEMPT_FLAG_TEST && !key && !release;
                    break;
                case "keyOn":
                    ok = Config.CPU_PREEMPT && !Config.CPU_PREEMPT_FLAG_TEST && key && release;
                    break;
                case "flagTest":
                    ok = Config.CPU_PREEMPT && Config.CPU_PREEMPT_FLAG_TEST && release;
                    break;
                default:
                    ok = false;
            }
            if (!ok) {
                throw new IllegalStateException(variant + ": wrong configuration: CPU_PREEMPT=" + Config.CPU_PREEMPT
                        + " FLAG_TEST=" + Config.CPU_PREEMPT_FLAG_TEST + " key=" + key + " ops=" + ops.name());
            }
        }

        /** One scheduling cycle: two passes of the CPU loop (the yield, then the switch). */
        final int cycle() {
            cycles++;
            return machine.step(0) + machine.step(0);
        }

        @TearDown(Level.Trial)
        public void unload() {
            yc.verifyAndClose(cycles);
        }
    }

    /** A machine under {@link Minimal}. */
    public static class MinimalCycle extends Cycle {
        @Override
        SchedExtOps ops() {
            return new Minimal();
        }
    }

    /** A machine under {@link NoopCpuRelease}. */
    public static class CpuReleaseCycle extends Cycle {
        @Override
        SchedExtOps ops() {
            return new NoopCpuRelease();
        }
    }

    @Benchmark
    @Fork(jvmArgsAppend = {"--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED", "-Dscx.config.cpu_preempt=false"})
    public int compiledOut(MinimalCycle m) {
        return m.cycle();
    }

    @Benchmark
    public int keyOff(MinimalCycle m) {
        return m.cycle();
    }

    @Benchmark
    public int keyOn(CpuReleaseCycle m) {
        return m.cycle();
    }

    @Benchmark
    @Fork(jvmArgsAppend = {"--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED",
        "-Dscx.config.cpu_preempt_check=flag"})
    public int flagTest(CpuReleaseCycle m) {
        return m.cycle();
    }
}
