// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.scxemu.kernel.StaticKey;

/**
 * What does one {@link StaticKey} check cost, against the other ways to guard an optional path?
 *
 * <p>The design requires that the seed's {@code scx_ops_cpu_preempt} key "costs nothing when
 * off": a {@code MutableCallSite} whose constant target C2 folds into the caller, so that
 * {@code if (KEY.enabled())} compiles to nothing at all, like a patched jump label. This
 * benchmark checks that claim for the guard in isolation, before the pick-path benchmark
 * checks it in the real {@code scx_next_task_picked()}. Every benchmark method has the same shape,
 * {@code return check ? slow : fast;}, with {@code slow} and {@code fast} non-final fields so that
 * only the check can be folded; the returned value goes to JMH's Blackhole. The variants, each
 * anchored by the baseline beside it:
 *
 * <ul>
 *   <li>{@link #compiledOut}: the baseline. The check is a {@code static final} boolean read from a
 *       system property, the mechanism of {@code Config.CPU_PREEMPT} (the build-time switch): C2
 *       folds it, and the method is one field load.
 *   <li>{@link #keyOff}: a disabled {@code static final} {@link StaticKey}. Expected equal to
 *       {@link #compiledOut}.
 *   <li>{@link #keyOn}: an enabled {@code static final} {@link StaticKey}: also folded (to
 *       {@code true}); the cost of "key on" is the guarded code, not the check.
 *   <li>{@link #volatileFlag}: a volatile boolean, what the design forbids for the key ("not a
 *       volatile read"). On x86 the load itself is a plain {@code mov}; what it costs is the load
 *       and branch that can never be removed, and the ordering it imposes on the code around it.
 *   <li>{@link #flagTest}: the 6.16 replacement of the static key, a plain load and bit test of
 *       the ops flags ({@code sch->ops.flags & SCX_OPS_...}); a final instance field, which C2
 *       does not trust as a constant, so the load stays.
 *   <li>{@link #keyOffNotConstant}: the same disabled key reached through a non-final field, so
 *       C2 cannot see which call site it is: an out-of-line method handle call. This is why every
 *       key lives in a {@code static final} field of {@code ScxKeys}.
 * </ul>
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar StaticKeyBench -prof gc}. Results and
 * the machine they came from: {@code benchmarks/README.md}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED")
@State(Scope.Thread)
public class StaticKeyBench {
    /** A build-time switch, folded by C2 exactly as {@code Config.CPU_PREEMPT} is: false. */
    private static final boolean COMPILED_IN = Boolean.getBoolean("scxemu.bench.never.set");
    private static final StaticKey KEY_OFF = StaticKey.defineFalse("bench_key_off");
    private static final StaticKey KEY_ON = StaticKey.defineFalse("bench_key_on");
    /** A 6.16-style ops flag bit (the value is arbitrary; only the bit test matters). */
    private static final long OPS_FLAG_CPU_PREEMPT = 1L << 5;

    static {
        KEY_ON.enable();
    }

    /** The value of the fast path (the key is off); non-final so it is loaded, not folded. */
    private int fast = 1;
    /** The value of the guarded path; non-final for the same reason. */
    private int slow = 2;
    /** Plain volatile guard: false. */
    private volatile boolean volatileGuard;
    /** {@code sch->ops.flags}: set at load, read on every pick; the bit is clear. */
    private final long opsFlags = Long.getLong("scxemu.bench.ops.flags", 0L);
    /** The disabled key, in a field C2 cannot fold. */
    private StaticKey keyOffField = KEY_OFF;

    @Benchmark
    public int compiledOut() {
        return COMPILED_IN ? slow : fast;
    }

    @Benchmark
    public int keyOff() {
        return KEY_OFF.enabled() ? slow : fast;
    }

    @Benchmark
    public int keyOn() {
        return KEY_ON.enabled() ? slow : fast;
    }

    @Benchmark
    public int volatileFlag() {
        return volatileGuard ? slow : fast;
    }

    @Benchmark
    public int flagTest() {
        return (opsFlags & OPS_FLAG_CPU_PREEMPT) != 0 ? slow : fast;
    }

    @Benchmark
    public int keyOffNotConstant() {
        return keyOffField.enabled() ? slow : fast;
    }
}
