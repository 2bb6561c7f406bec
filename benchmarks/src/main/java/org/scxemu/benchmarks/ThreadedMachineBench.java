// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.benchmarks;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.AuxCounters;
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
import org.scxemu.harness.workload.SleepWake;
import org.scxemu.kernel.Ext;
import org.scxemu.kernel.Kernel;

/**
 * Context switches per second of a threaded {@link Machine}: every simulated CPU on its own
 * {@code cpu-N} thread, real {@code park}/{@code unpark} between the CPU threads (a wakeup that
 * lands on another CPU, a kick), the host clock, the tick. This is what {@code scx-emu run}
 * does, and its cost sits next to {@link WakeupCycleBench}'s stepped cycle: the difference per
 * switch is the price of the threads' hand-offs and the host's scheduling.
 *
 * <p>Workload: {@code sleep-wake} with 3 tasks per CPU and short phases (run and sleep 2-20 us
 * each, drawn from seed 1), so that the switch rate is bounded by the emulator, not by the
 * workload's own phases; forked before the CPU threads start, as {@code scx-emu run} does.
 * {@link #cpus}: 1, 2 and 4 simulated CPUs (on a 2-core host, 4 CPU threads oversubscribe it; at
 * 2 and 4 CPUs no host core is spare, so the DSQ locks run in their test-and-set mode).
 *
 * <p>How it counts: the benchmark thread samples the machine's total switch count every
 * {@value #WINDOW_US} us and adds the difference to an {@link AuxCounters} counter, which JMH
 * reports per second ({@code switches}); the benchmark's own score (windows per second) is only
 * the sampling rate. The benchmark thread mostly parks, so it takes little from the CPU threads.
 * The machine runs for the whole trial; teardown fails on a kernel BUG or an ejection.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar ThreadedMachineBench -prof gc}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED")
@State(Scope.Benchmark)
public class ThreadedMachineBench {
    static final long WINDOW_US = 1_000;

    @Param({"1", "2", "4"})
    public int cpus;

    @Param({"simple"})
    public String scheduler;

    private Machine machine;
    private Kernel kernel;
    /** The machine's switch count at the last sample; benchmark thread only. */
    private long last;

    /** The per-iteration switch count, reported by JMH per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Switches {
        public long switches;

        @Setup(Level.Iteration)
        public void reset() {
            switches = 0;
        }
    }

    @Setup(Level.Trial)
    public void start() {
        machine = Machine.threaded(cpus);
        int ret = machine.load(PickPathBench.scheduler(scheduler));
        if (ret != 0) {
            throw new IllegalStateException(scheduler + " failed to load: " + ret);
        }
        kernel = machine.kernel();
        new SleepWake(3, 2_000L, 20_000L, 2_000L, 20_000L).start(kernel, cpus, 1);
        machine.start();
        last = totalSwitches();
    }

    /** Racy but benign: each CPU's count is written by its own thread; a sample may lag by a switch. */
    private long totalSwitches() {
        long sum = 0;
        for (int cpu = 0; cpu < cpus; cpu++) {
            sum += kernel.rq(cpu).getNrSwitchesAcquire();
        }
        return sum;
    }

    @Benchmark
    public void window(Switches s) {
        LockSupport.parkNanos(WINDOW_US * 1_000L);
        long now = totalSwitches();
        s.switches += now - last;
        last = now;
    }

    @TearDown(Level.Trial)
    public void stop() {
        try {
            Throwable bug = kernel.bug();
            if (bug != null) {
                throw new IllegalStateException("kernel BUG during the benchmark", bug);
            }
            if (machine.ext().enableState() != Ext.SCX_OPS_ENABLED) {
                throw new IllegalStateException(scheduler + " was ejected: " + machine.ext().exitInfo());
            }
        } finally {
            machine.close();
        }
    }
}
