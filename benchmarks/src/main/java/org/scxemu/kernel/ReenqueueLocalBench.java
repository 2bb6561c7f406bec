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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.scxemu.harness.Machine;
import org.scxemu.scx.SchedExtOps;
import org.scxemu.scx.Scx;

/**
 * {@code scx_bpf_reenqueue_local()} (the seed's kfunc) on a local DSQ of {@link #tasks} tasks.
 *
 * <p>One operation is one call of the kernel's {@code reenqueueLocal()} on CPU 0 of a stepped
 * one-CPU {@link Machine}, under the rq lock and with {@code SCX_KF_CPU_RELEASE} allowed, as from
 * {@code ops.cpu_release()}: every task on the local DSQ is dequeued and goes back through
 * {@code do_enqueue_task()} with {@code SCX_ENQ_REENQ}, i.e. {@code ops.enqueue()}. The scheduler's
 * {@code enqueue} dispatches to {@code SCX_DSQ_LOCAL}, so every task lands back on the same local
 * DSQ and the state is the same after each operation (the kfunc snapshots the count, so it cannot
 * loop). The tasks were forked and never ran (CPU 0 stays idle; the manual clock never moves).
 * The cost per task is the score divided by {@link #tasks}.
 *
 * <p>The benchmark lives in {@code org.scxemu.kernel} to reach the package-private kfunc body and
 * the rq lock; it calls the same method {@code Scx.scx_bpf_reenqueue_local()} does, without raising
 * the higher-class preemption that would make the kernel call {@code ops.cpu_release()}.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar ReenqueueLocalBench -prof gc}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED")
@State(Scope.Thread)
public class ReenqueueLocalBench {
    @Param({"1", "8", "64"})
    public int tasks;

    private Machine machine;
    private Rq rq;
    private long ops;
    private long reenqueued;

    /** Everything to the local DSQ of the CPU doing the enqueue. */
    static final class LocalOnly implements SchedExtOps {
        @Override
        public String name() {
            return "local_only";
        }

        @Override
        public void enqueue(Task p, long enqFlags) {
            Scx.scx_bpf_dispatch(p, Scx.SCX_DSQ_LOCAL, Scx.SCX_SLICE_DFL, enqFlags);
        }
    }

    @Setup(Level.Trial)
    public void load() {
        machine = Machine.stepped(1, new Clock.Manual());
        int ret = machine.load(new LocalOnly());
        if (ret != 0) {
            throw new IllegalStateException("failed to load: " + ret);
        }
        Kernel kernel = machine.kernel();
        for (int i = 0; i < tasks; i++) {
            kernel.fork(new Kernel.TaskSpec().comm("t" + i).behavior(Behavior.cpuBound(1000)));
        }
        rq = kernel.rq(0);
        if (rq.scx.localDsq.readOnceNr() != tasks) {
            throw new IllegalStateException(rq.scx.localDsq.readOnceNr() + " tasks on the local DSQ, expected "
                    + tasks);
        }
        if (reenqueue() != tasks || rq.scx.localDsq.readOnceNr() != tasks) {
            throw new IllegalStateException("reenqueue_local did not move every task back to the local DSQ");
        }
        ops = 0;
        reenqueued = 0;
    }

    private int reenqueue() {
        ExecCtx ctx = rq.ctx;
        ExecCtx prev = ExecCtx.enter(ctx);
        rq.lock.lock();
        int mask = ctx.kfMask;
        try {
            ctx.kfMask = mask | Scx.SCX_KF_CPU_RELEASE;
            return machine.kernel().ext.dispatch.reenqueueLocal(ctx);
        } finally {
            ctx.kfMask = mask;
            rq.lock.unlock();
            ExecCtx.leave(prev);
        }
    }

    @Benchmark
    public int reenqueueLocal() {
        int n = reenqueue();
        ops++;
        reenqueued += n;
        return n;
    }

    @TearDown(Level.Trial)
    public void unload() {
        try {
            Throwable bug = machine.kernel().bug();
            if (bug != null) {
                throw new IllegalStateException("kernel BUG during the benchmark", bug);
            }
            if (machine.ext().enableState() != Ext.SCX_OPS_ENABLED) {
                throw new IllegalStateException("ejected: " + machine.ext().exitInfo());
            }
            if (reenqueued != ops * tasks || rq.scx.localDsq.readOnceNr() != tasks) {
                throw new IllegalStateException(reenqueued + " tasks re-enqueued in " + ops + " calls of " + tasks);
            }
        } finally {
            machine.close();
        }
    }
}
