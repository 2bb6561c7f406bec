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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.scxemu.harness.Machine;
import org.scxemu.schedulers.ScxQmap;
import org.scxemu.schedulers.ScxSimple;
import org.scxemu.scx.SchedExtOps;

/**
 * One full scheduling cycle of the sched_ext core on one CPU, with no threads and no clock.
 *
 * <p>A stepped one-CPU {@link Machine} runs {@link #TASKS} tasks that call {@code sched_yield()}
 * every time they get the CPU. One benchmark operation is two passes of the CPU loop
 * ({@link Machine#step}), which is exactly one cycle:
 * <ol>
 *   <li>the running task yields ({@code yield_task_scx()}: slice to 0, {@code resched_curr()});
 *   <li>{@code __schedule()}: {@code put_prev_task_scx()} enqueues it ({@code do_enqueue_task()}:
 *       {@code ops.enqueue()}, or the global DSQ for the minimal scheduler, which has none),
 *       {@code balance_scx()} gets the next task onto the local DSQ ({@code ops.dispatch()} and
 *       {@code scx_bpf_consume()}, or the global DSQ), {@code pick_next_task_scx()},
 *       {@code scx_next_task_picked()} (the {@code pnt_seq} release store and the seed's
 *       {@code cpu_release} check), {@code set_next_task_scx()} with {@code ops.running()} /
 *       {@code ops.stopping()} where the scheduler has them, and the context switch to the other
 *       task.
 * </ol>
 *
 * <p>{@link #scheduler}: {@code minimal} (name only: the core alone), {@code simple}
 * ({@code scx_simple}, weighted vtime on a user DSQ) and {@code qmap} ({@code scx_qmap}: its
 * {@code cpu_release} turns the seed's static key on, and no higher class ever preempts, so the
 * key is checked on every pick but the callback never runs).
 *
 * <p>It is the hot path every scheduler pays for, measured without thread hand-offs, so its
 * allocation rate ({@code -prof gc}, B/op) is the emulator's own: the design wants 0 in steady
 * state. The manual clock never moves, so ticks, timers and the watchdog stay out of the
 * measurement. No wakeup is involved ({@code select_cpu} and {@code ttwu} are the wakeup benchmark's full
 * cycle).
 *
 * <p>Only one scheduler may be loaded per JVM, as in a kernel: each trial loads it in
 * {@link #load} and unloads it in {@link #unload}, and JMH's fork per benchmark keeps trials
 * apart. A new scheduler is one more {@code @Param} value.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar PickPathBench -prof gc}. Results:
 * {@code benchmarks/README.md}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED")
@State(Scope.Thread)
public class PickPathBench {
    /** Two tasks, so every cycle is a real context switch (prev != next). */
    static final int TASKS = 2;

    @Param({"minimal", "simple", "qmap"})
    public String scheduler;

    private YieldCycle yc;
    private Machine machine;
    /** Operations run, checked against the CPU's context switches at tear-down (one add per op). */
    private long cycles;

    /** The scheduler named by {@code name}. */
    static SchedExtOps scheduler(String name) {
        switch (name) {
            case "minimal":
                return () -> "minimal";
            case "simple":
                return new ScxSimple(false);
            case "qmap":
                return ScxQmap.create(new ScxQmap.Options());
            default:
                throw new IllegalArgumentException("unknown scheduler: " + name);
        }
    }

    @Setup(Level.Trial)
    public void load() {
        yc = YieldCycle.load(scheduler(scheduler), TASKS);
        machine = yc.machine;
        cycles = 0;
    }

    @Benchmark
    public int cycle() {
        cycles++;
        return machine.step(0) + machine.step(0);
    }

    @TearDown(Level.Trial)
    public void unload() {
        yc.verifyAndClose(cycles);
    }
}
