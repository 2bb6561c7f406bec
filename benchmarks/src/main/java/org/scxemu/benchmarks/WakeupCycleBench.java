// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
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
import org.openjdk.jmh.infra.BenchmarkParams;
import org.scxemu.harness.Machine;
import org.scxemu.kernel.Clock;
import org.scxemu.kernel.CpuMask;
import org.scxemu.kernel.Ext;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.RawSpinLock;
import org.scxemu.kernel.Rq;
import org.scxemu.kernel.Task;

/**
 * Scheduling throughput: the full cycle with a wakeup, per simulated CPU, in operations per
 * microsecond.
 *
 * <p>Each CPU of a stepped {@link Machine} runs a ping-pong pair pinned to it: when a task gets the
 * CPU it wakes its partner ({@code try_to_wake_up()}: {@code ops.select_cpu()}, {@code ops.enqueue()}
 * or a direct dispatch, {@code ops.runnable()}) and blocks ({@code __schedule()}:
 * {@code put_prev_task_scx()} with {@code ops.stopping()}/{@code ops.quiescent()}, {@code balance_scx()}
 * with {@code ops.dispatch()}, {@code pick_next_task_scx()}, {@code scx_next_task_picked()},
 * {@code ops.running()}, the context switch). One pass of the CPU loop ({@link Machine#step}) is
 * exactly one such cycle, and one operation is one pass: wakeup, select_cpu, enqueue, dispatch,
 * pick, run, put_prev.
 *
 * <p>{@link #scheduler}: {@code simple} ({@code scx_simple}, FIFO on a shared user DSQ) and
 * {@code qmap} ({@code scx_qmap}: BPF-map queues, {@code cpu_release}). {@code oneCpu} is one CPU
 * stepped by one thread. {@code twoCpus} is a {@code @Group} of two threads, each stepping its own
 * CPU of one two-CPU machine (its own pinned pair): the sched_ext core and the scheduler's shared
 * state (the shared DSQ and its lock, qmap's queues, the idle masks) are contended exactly as two
 * CPU threads of a threaded {@code Machine} contend them, while JMH counts operations per thread
 * and checks them. A threaded {@code Machine} measured by switches per second would add the CPU
 * threads' park/unpark and the tick to what is measured, and would leave the operation count to
 * the emulator instead of JMH. The group's score is the sum over both CPUs; on this 2-core machine
 * the two threads share the cores with JMH and other processes, so the 2-thread figure is a floor.
 *
 * <p>Only one scheduler per JVM: load in {@code @Setup(Level.Trial)}, unload in {@code @TearDown},
 * which fails on a kernel BUG, an ejection, or a CPU whose switch count differs from its operation
 * count. The manual clock never moves: no tick, no timer, no watchdog.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar WakeupCycleBench -prof gc}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED")
@State(Scope.Group)
public class WakeupCycleBench {
    private static final int CHECK_CYCLES = 16;
    /** Per-CPU counters sit this many longs apart (no false sharing between the two threads). */
    private static final int STRIDE = 16;

    @Param({"simple", "qmap"})
    public String scheduler;

    /**
     * The DSQ locks' mode ({@code RawSpinLock}): {@code auto} (queued while the simulated CPUs fit
     * the host's cores with one to spare, so test-and-set for two CPUs on a 2-core host), or forced
     * {@code queued} or {@code test-and-set}.
     */
    @Param({"auto"})
    public String dsqLock;

    private Machine machine;
    private Rq[] rqs;
    private long[] switchesAtStart;
    /** Operations per CPU, at {@code cpu * STRIDE}; each written only by the thread stepping it. */
    private long[] cycles;

    @Setup(Level.Trial)
    public void load(BenchmarkParams params) {
        int cpus = params.getThreads();
        System.setProperty(RawSpinLock.MODE_PROPERTY, dsqLock);
        machine = Machine.stepped(cpus, new Clock.Manual());
        int ret = machine.load(PickPathBench.scheduler(scheduler));
        if (ret != 0) {
            throw new IllegalStateException(scheduler + " failed to load: " + ret);
        }
        Kernel kernel = machine.kernel();
        rqs = new Rq[cpus];
        switchesAtStart = new long[cpus];
        cycles = new long[cpus * STRIDE];
        for (int cpu = 0; cpu < cpus; cpu++) {
            Task[] pair = new Task[2];
            for (int i = 0; i < 2; i++) {
                int me = i;
                pair[i] = kernel.fork(new Kernel.TaskSpec().comm("pp" + cpu + "." + i).allowed(CpuMask.of(cpu))
                        .behavior((self, step, now) -> {
                            kernel.prepareToWait(self);
                            kernel.wakeUpProcess(pair[1 - me]);
                            step.block();
                        }));
            }
            rqs[cpu] = kernel.rq(cpu);
        }
        // Start every pair, then check that one pass is one switch between the two tasks.
        machine.settle(4);
        for (int cpu = 0; cpu < cpus; cpu++) {
            Rq rq = rqs[cpu];
            long before = rq.nrSwitches();
            Task prev = rq.curr();
            for (int i = 0; i < CHECK_CYCLES; i++) {
                machine.step(cpu);
                Task next = rq.curr();
                if (next == prev || next == rq.idleTask()) {
                    throw new IllegalStateException("cpu " + cpu + " cycle " + i + ": " + prev + " -> " + next);
                }
                prev = next;
            }
            if (rq.nrSwitches() - before != CHECK_CYCLES) {
                throw new IllegalStateException("cpu " + cpu + ": " + (rq.nrSwitches() - before) + " switches in "
                        + CHECK_CYCLES + " cycles");
            }
            switchesAtStart[cpu] = rq.nrSwitches();
        }
    }

    private int cycle(int cpu) {
        cycles[cpu * STRIDE]++;
        return machine.step(cpu);
    }

    /** A group of one: the {@code Scope.Group} state then belongs to this thread alone. */
    @Benchmark
    @Group("oneCpu")
    @GroupThreads(1)
    public int oneCpu() {
        return cycle(0);
    }

    @Benchmark
    @Group("twoCpus")
    @GroupThreads(1)
    public int cpu0() {
        return cycle(0);
    }

    @Benchmark
    @Group("twoCpus")
    @GroupThreads(1)
    public int cpu1() {
        return cycle(1);
    }

    @TearDown(Level.Trial)
    public void unload() {
        try {
            Throwable bug = machine.kernel().bug();
            if (bug != null) {
                throw new IllegalStateException("kernel BUG during the benchmark", bug);
            }
            if (machine.ext().enableState() != Ext.SCX_OPS_ENABLED) {
                throw new IllegalStateException(scheduler + " was ejected: " + machine.ext().exitInfo());
            }
            for (int cpu = 0; cpu < rqs.length; cpu++) {
                long switches = rqs[cpu].nrSwitches() - switchesAtStart[cpu];
                if (switches != cycles[cpu * STRIDE]) {
                    throw new IllegalStateException("cpu " + cpu + ": " + switches + " switches in "
                            + cycles[cpu * STRIDE] + " cycles");
                }
            }
        } finally {
            machine.close();
        }
    }
}
