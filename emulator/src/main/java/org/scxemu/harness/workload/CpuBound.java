// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.workload;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.Task;

/**
 * {@code cpu-bound}: the throughput case. {@code tasksPerCpu * cpus} SCHED_NORMAL tasks that only
 * run, in phases of {@code minPhaseNs..maxPhaseNs} drawn from the seed; they never sleep, so every
 * CPU always has work and the scheduler's slices decide who runs.
 *
 * <p>Threads: the task list is written by {@link #start} (harness thread) and read by
 * {@link #report} after the CPU threads are joined. Each task's generator is owned by whichever
 * CPU thread runs the task; the scheduler core orders successive runs (on_cpu release/acquire).
 */
public final class CpuBound implements Workload {
    public static final String NAME = "cpu-bound";

    private final int tasksPerCpu;
    private final long minPhaseNs;
    private final long maxPhaseNs;
    private final List<Task> tasks = Collections.synchronizedList(new ArrayList<>());

    /** The defaults: 2 tasks per CPU, phases of 1-5 ms. */
    public CpuBound() {
        this(2, 1_000_000L, 5_000_000L);
    }

    public CpuBound(int tasksPerCpu, long minPhaseNs, long maxPhaseNs) {
        if (tasksPerCpu < 1) {
            throw new IllegalArgumentException("tasksPerCpu must be >= 1, got " + tasksPerCpu);
        }
        Phases.checkRange("phase", minPhaseNs, maxPhaseNs);
        this.tasksPerCpu = tasksPerCpu;
        this.minPhaseNs = minPhaseNs;
        this.maxPhaseNs = maxPhaseNs;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return tasksPerCpu + " x cpus SCHED_NORMAL tasks that only run (phases of " + minPhaseNs / 1_000_000
                + "-" + maxPhaseNs / 1_000_000 + " ms): the throughput case";
    }

    @Override
    public void start(Kernel kernel, int cpus, long seed) {
        SplittableRandom root = new SplittableRandom(seed);
        for (int i = 0; i < tasksPerCpu * cpus; i++) {
            SplittableRandom rnd = root.split();
            Task t = kernel.fork(new Kernel.TaskSpec()
                    .comm("cpu-bound-" + i)
                    .cpu(i % cpus)
                    .behavior((self, step, now) -> step.run(Phases.uniform(rnd, minPhaseNs, maxPhaseNs))));
            if (t != null) {
                tasks.add(t);
            }
        }
    }

    @Override
    public Map<String, Object> report() {
        synchronized (tasks) {
            return Phases.runtimes(tasks);
        }
    }
}
