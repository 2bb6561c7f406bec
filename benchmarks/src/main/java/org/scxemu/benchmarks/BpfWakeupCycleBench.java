// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
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
import org.scxemu.bpf.BpfScheduler;
import org.scxemu.harness.Machine;
import org.scxemu.kernel.Clock;
import org.scxemu.kernel.CpuMask;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.Rq;
import org.scxemu.kernel.Task;
import org.scxemu.schedulers.ScxSimple;
import org.scxemu.scx.SchedExtOps;

/**
 * The wakeup cycle of {@link WakeupCycleBench} (one CPU, a pinned ping-pong pair: wakeup,
 * select_cpu, enqueue, dispatch, pick, run, put_prev per operation) with a BPF object run by the
 * interpreter against the Java scheduler it mirrors: what running the C scheduler instead of a
 * hand port costs per cycle.
 *
 * <p>{@link #scheduler}: {@code java-fifo} is {@code ScxSimple} in FIFO mode, {@code bpf-fifo} the
 * project's own {@code fifo.bpf.o} fixture (select_cpu_dfl, global DSQ, per-CPU counters: the same
 * decisions); {@code java-vtime} is {@code ScxSimple} in vtime mode, {@code bpf-vtime} the
 * {@code vtime.bpf.o} fixture (one user DSQ ordered by vtime). The fixtures are read from
 * {@code -Dscx.bpf.fixtures=DIR}, else from {@code emulator/src/test/bpf} under the working
 * directory or its parent. {@code scx_qmap} itself cannot run yet: it needs the DSQ iterator
 * kfuncs.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar BpfWakeupCycleBench -prof gc}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED")
@State(Scope.Thread)
public class BpfWakeupCycleBench {
    @Param({"java-fifo", "bpf-fifo", "java-vtime", "bpf-vtime"})
    public String scheduler;

    private Machine machine;
    private Rq rq;
    private long cycles;
    private long switchesAtStart;

    static Path fixture(String name) {
        String dir = System.getProperty("scx.bpf.fixtures");
        Path[] tries = dir != null ? new Path[] {Path.of(dir)}
                : new Path[] {Path.of("emulator/src/test/bpf"), Path.of("../emulator/src/test/bpf")};
        for (Path d : tries) {
            Path p = d.resolve(name + ".bpf.o");
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new IllegalStateException(name + ".bpf.o not found; set -Dscx.bpf.fixtures=DIR");
    }

    static SchedExtOps create(String scheduler) {
        try {
            switch (scheduler) {
                case "java-fifo":
                    return new ScxSimple(true);
                case "java-vtime":
                    return new ScxSimple(false);
                case "bpf-fifo":
                    return BpfScheduler.load(fixture("fifo"), new BpfScheduler.Options());
                case "bpf-vtime":
                    return BpfScheduler.load(fixture("vtime"), new BpfScheduler.Options());
                default:
                    throw new IllegalArgumentException(scheduler);
            }
        } catch (org.scxemu.bpf.BpfLoadException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    @Setup(Level.Trial)
    public void load() {
        machine = Machine.stepped(1, new Clock.Manual());
        int ret = machine.load(create(scheduler));
        if (ret != 0) {
            throw new IllegalStateException(scheduler + " failed to load: " + ret);
        }
        Kernel kernel = machine.kernel();
        Task[] pair = new Task[2];
        for (int i = 0; i < 2; i++) {
            int me = i;
            pair[i] = kernel.fork(new Kernel.TaskSpec().comm("pp" + i).allowed(CpuMask.of(0))
                    .behavior((self, step, now) -> {
                        kernel.prepareToWait(self);
                        kernel.wakeUpProcess(pair[1 - me]);
                        step.block();
                    }));
        }
        rq = kernel.rq(0);
        machine.settle(4);
        switchesAtStart = rq.nrSwitches();
    }

    @Benchmark
    public int cycle() {
        cycles++;
        return machine.step(0);
    }

    @TearDown(Level.Trial)
    public void unload() {
        try {
            if (machine.kernel().bug() != null) {
                throw new IllegalStateException("kernel BUG", machine.kernel().bug());
            }
            if (machine.ext().exitKind() != 0) {
                throw new IllegalStateException(scheduler + " was ejected: " + machine.ext().exitInfo().msg());
            }
            long switches = rq.nrSwitches() - switchesAtStart;
            if (switches != cycles) {
                throw new IllegalStateException(switches + " switches in " + cycles + " cycles");
            }
            machine.unload();
        } finally {
            machine.close();
        }
    }
}
