// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

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
import org.scxemu.harness.Machine;
import org.scxemu.scx.SchedExtOps;
import org.scxemu.scx.Scx;

/**
 * The kick path: {@code scx_bpf_kick_cpu(1, SCX_KICK_IDLE)} from CPU 0 to an idle CPU 1, until CPU 1
 * has run its {@code __schedule()}.
 *
 * <p>A stepped two-CPU {@link Machine} with the minimal scheduler and no tasks: both CPUs idle. One
 * operation is (1) the kfunc body on CPU 0 ({@code Ext.kickCpu}: the {@code raw_spin_rq_trylock()}
 * of CPU 1 and {@code can_skip_idle_kick()}, the bit in {@code cpus_to_kick_if_idle}, the irq work
 * queued), (2) one pass of CPU 0's loop, which runs {@code kick_cpus_irq_workfn()}:
 * {@code kick_one_cpu_if_idle()} takes CPU 1's rq lock and {@code resched_curr()}s it, and (3) one
 * pass of CPU 1's loop, which sees {@code need_resched} and runs {@code __schedule()}
 * ({@code balance_scx()}, the pick of the idle task again, since nothing is queued). In a threaded
 * {@code Machine} step (3) follows an unpark of CPU 1's thread, which is outside what this measures.
 *
 * <p>The tear-down fails if any operation's step (3) did not schedule or the kernel hit a BUG.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar KickIdleBench -prof gc}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED")
@State(Scope.Thread)
public class KickIdleBench {
    private Machine machine;
    private Kernel kernel;
    private Rq rq0;
    private Rq rq1;
    private long missed;

    @Setup(Level.Trial)
    public void load() {
        machine = Machine.stepped(2, new Clock.Manual());
        SchedExtOps minimal = () -> "minimal";
        int ret = machine.load(minimal);
        if (ret != 0) {
            throw new IllegalStateException("failed to load: " + ret);
        }
        kernel = machine.kernel();
        rq0 = kernel.rq(0);
        rq1 = kernel.rq(1);
        machine.settle(4);
        for (int i = 0; i < 16; i++) {
            kickAndRun();
        }
        if (missed != 0) {
            throw new IllegalStateException("the kicked CPU did not reschedule");
        }
    }

    private int kickAndRun() {
        ExecCtx prev = ExecCtx.enter(rq0.ctx);
        try {
            kernel.ext.kick.kickCpu(rq0.ctx, 1, Scx.SCX_KICK_IDLE);
        } finally {
            ExecCtx.leave(prev);
        }
        int work = machine.step(0);
        int scheduled = machine.step(1);
        if (scheduled == 0 || rq1.curr != rq1.idle) {
            missed++;
        }
        return work + scheduled;
    }

    @Benchmark
    public int kickIdle() {
        return kickAndRun();
    }

    @TearDown(Level.Trial)
    public void unload() {
        try {
            Throwable bug = kernel.bug();
            if (bug != null) {
                throw new IllegalStateException("kernel BUG during the benchmark", bug);
            }
            if (missed != 0) {
                throw new IllegalStateException(missed + " kicks did not make the idle CPU reschedule");
            }
        } finally {
            machine.close();
        }
    }
}
