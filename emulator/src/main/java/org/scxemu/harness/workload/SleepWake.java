// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.workload;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.scxemu.kernel.Behavior;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.Step;
import org.scxemu.kernel.Task;

/**
 * {@code sleep-wake}: many wakeups. {@code tasksPerCpu * cpus} SCHED_NORMAL tasks, each looping
 * "run {@code runMin..runMax}, sleep {@code sleepMin..sleepMax}" with lengths drawn from the seed;
 * with the defaults (0.1-2 ms run, 0.1-5 ms sleep, 3 per CPU) the machine is loaded a little below
 * capacity, so select_cpu, idle tracking and wakeup preemption all get exercised.
 *
 * <p>Threads: each task's {@link Loop} is owned by the CPU thread running the task (successive
 * runs are ordered by the core); {@link #report} reads them after the CPU threads are joined.
 */
public final class SleepWake implements Workload {
    public static final String NAME = "sleep-wake";

    private final int tasksPerCpu;
    private final long runMinNs;
    private final long runMaxNs;
    private final long sleepMinNs;
    private final long sleepMaxNs;
    /** Written by start() on the harness thread, read by report() after the run. */
    private final List<Loop> loops = new ArrayList<>();

    /** The defaults: 3 tasks per CPU, run 0.1-2 ms, sleep 0.1-5 ms. */
    public SleepWake() {
        this(3, 100_000L, 2_000_000L, 100_000L, 5_000_000L);
    }

    public SleepWake(int tasksPerCpu, long runMinNs, long runMaxNs, long sleepMinNs, long sleepMaxNs) {
        if (tasksPerCpu < 1) {
            throw new IllegalArgumentException("tasksPerCpu must be >= 1, got " + tasksPerCpu);
        }
        Phases.checkRange("run", runMinNs, runMaxNs);
        Phases.checkRange("sleep", sleepMinNs, sleepMaxNs);
        this.tasksPerCpu = tasksPerCpu;
        this.runMinNs = runMinNs;
        this.runMaxNs = runMaxNs;
        this.sleepMinNs = sleepMinNs;
        this.sleepMaxNs = sleepMaxNs;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return tasksPerCpu + " x cpus SCHED_NORMAL tasks that run " + runMinNs / 1000 + "-" + runMaxNs / 1000
                + " us then sleep " + sleepMinNs / 1000 + "-" + sleepMaxNs / 1000 + " us: many wakeups";
    }

    /** One task's loop: run, sleep, run, ... */
    private final class Loop implements Behavior {
        final SplittableRandom rnd;
        Task task;
        boolean sleepNext;
        long sleeps;

        Loop(SplittableRandom rnd) {
            this.rnd = rnd;
        }

        @Override
        public void next(Task self, Step step, long nowNs) {
            if (sleepNext) {
                sleeps++;
                step.sleep(Phases.uniform(rnd, sleepMinNs, sleepMaxNs));
            } else {
                step.run(Phases.uniform(rnd, runMinNs, runMaxNs));
            }
            sleepNext = !sleepNext;
        }
    }

    @Override
    public void start(Kernel kernel, int cpus, long seed) {
        SplittableRandom root = new SplittableRandom(seed);
        for (int i = 0; i < tasksPerCpu * cpus; i++) {
            Loop loop = new Loop(root.split());
            Task t = kernel.fork(new Kernel.TaskSpec().comm("sleep-wake-" + i).cpu(i % cpus).behavior(loop));
            if (t != null) {
                loop.task = t;
                loops.add(loop);
            }
        }
    }

    @Override
    public Map<String, Object> report() {
        List<Task> tasks = new ArrayList<>();
        long sleeps = 0;
        long waitNs = 0;
        for (Loop l : loops) {
            tasks.add(l.task);
            sleeps += l.sleeps;
            waitNs += l.task.waitNs();
        }
        Map<String, Object> m = Phases.runtimes(tasks);
        m.put("sleeps", sleeps);
        m.put("wait_ns_total", waitNs);
        return m;
    }
}
