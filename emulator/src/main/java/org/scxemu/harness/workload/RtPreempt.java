// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.workload;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.scxemu.kernel.Behavior;
import org.scxemu.kernel.CpuMask;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.Step;
import org.scxemu.kernel.Task;

/**
 * {@code rt-preempt}: the situation {@code ops.cpu_release()} exists for.
 *
 * <p>{@code extPerCpu * cpus} SCHED_NORMAL tasks (sched_ext tasks once a scheduler is loaded) that
 * only run keep every CPU busy, so every local DSQ has work queued or running. On top, SCHED_FIFO
 * tasks, one pinned to each of {@code rtCpus} CPUs chosen from the seed (half of the CPUs by
 * default, never all of them when there are two or more, so preempted work has somewhere to go),
 * sleep {@code rtSleepMin..rtSleepMax} and then run a burst of {@code rtBurstMin..rtBurstMax},
 * taking their CPU away from sched_ext. A sched_ext task preempted there with slice left is put
 * back at the head of that CPU's local DSQ ({@code put_prev_task_scx()}), where it is stranded
 * until the burst ends, unless the scheduler's {@code cpu_release} re-enqueues it
 * ({@code scx_bpf_reenqueue_local()}) so another CPU can run it.
 *
 * <p>Optionally (on by default) one SCHED_DEADLINE task and one stop-class task, each pinned to a
 * seed-chosen CPU, with short, rare bursts: they exercise {@code SCX_CPU_PREEMPT_DL} and
 * {@code SCX_CPU_PREEMPT_STOP}.
 *
 * <p>Threads: as in {@link CpuBound}; burst counters live in each task's behaviour, owned by the
 * CPU thread running it, and are read by {@link #report} after the CPU threads are joined.
 */
public final class RtPreempt implements Workload {
    public static final String NAME = "rt-preempt";

    /** The workload's knobs; the defaults are what {@code --workload rt-preempt} runs. */
    public static final class Params {
        public int extPerCpu = 3;
        public long extPhaseMinNs = 1_000_000L;
        public long extPhaseMaxNs = 5_000_000L;
        /** CPUs that get a SCHED_FIFO task; -1 means half of them (at least 1, at most cpus - 1). */
        public int rtCpus = -1;
        public long rtSleepMinNs = 2_000_000L;
        public long rtSleepMaxNs = 10_000_000L;
        public long rtBurstMinNs = 1_000_000L;
        public long rtBurstMaxNs = 20_000_000L;
        public boolean dlTask = true;
        public long dlSleepMinNs = 20_000_000L;
        public long dlSleepMaxNs = 40_000_000L;
        public long dlBurstMinNs = 500_000L;
        public long dlBurstMaxNs = 2_000_000L;
        public boolean stopTask = true;
        public long stopSleepMinNs = 50_000_000L;
        public long stopSleepMaxNs = 150_000_000L;
        public long stopBurstMinNs = 20_000L;
        public long stopBurstMaxNs = 100_000L;

        void validate() {
            if (extPerCpu < 1) {
                throw new IllegalArgumentException("extPerCpu must be >= 1, got " + extPerCpu);
            }
            Phases.checkRange("ext phase", extPhaseMinNs, extPhaseMaxNs);
            Phases.checkRange("rt sleep", rtSleepMinNs, rtSleepMaxNs);
            Phases.checkRange("rt burst", rtBurstMinNs, rtBurstMaxNs);
            Phases.checkRange("dl sleep", dlSleepMinNs, dlSleepMaxNs);
            Phases.checkRange("dl burst", dlBurstMinNs, dlBurstMaxNs);
            Phases.checkRange("stop sleep", stopSleepMinNs, stopSleepMaxNs);
            Phases.checkRange("stop burst", stopBurstMinNs, stopBurstMaxNs);
        }
    }

    private final Params params;
    /** Written by start() on the harness thread, read by report() after the run. */
    private final List<Task> extTasks = new ArrayList<>();
    private final List<Burster> rt = new ArrayList<>();
    private final List<Burster> dl = new ArrayList<>();
    private final List<Burster> stop = new ArrayList<>();
    private final List<Long> rtCpuList = new ArrayList<>();
    private long dlCpu = -1;
    private long stopCpu = -1;

    public RtPreempt() {
        this(new Params());
    }

    public RtPreempt(Params params) {
        params.validate();
        this.params = params;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return params.extPerCpu + " x cpus busy ext tasks, plus SCHED_FIFO tasks on seed-chosen CPUs that sleep "
                + params.rtSleepMinNs / 1_000_000 + "-" + params.rtSleepMaxNs / 1_000_000 + " ms and run bursts of "
                + params.rtBurstMinNs / 1_000_000 + "-" + params.rtBurstMaxNs / 1_000_000
                + " ms (and a DL and a stop task): the cpu_release case";
    }

    /** Sleep, run a burst, sleep, ... (sleeps first, so the ext tasks are running when it wakes). */
    private static final class Burster implements Behavior {
        final SplittableRandom rnd;
        final long sleepMin;
        final long sleepMax;
        final long burstMin;
        final long burstMax;
        Task task;
        boolean burstNext;
        long bursts;

        Burster(SplittableRandom rnd, long sleepMin, long sleepMax, long burstMin, long burstMax) {
            this.rnd = rnd;
            this.sleepMin = sleepMin;
            this.sleepMax = sleepMax;
            this.burstMin = burstMin;
            this.burstMax = burstMax;
        }

        @Override
        public void next(Task self, Step step, long nowNs) {
            if (burstNext) {
                bursts++;
                step.run(Phases.uniform(rnd, burstMin, burstMax));
            } else {
                step.sleep(Phases.uniform(rnd, sleepMin, sleepMax));
            }
            burstNext = !burstNext;
        }
    }

    /** The CPUs that get a SCHED_FIFO task: a seeded choice of {@code n} distinct CPUs, sorted. */
    static int[] chooseCpus(SplittableRandom rnd, int cpus, int n) {
        int[] perm = new int[cpus];
        for (int i = 0; i < cpus; i++) {
            perm[i] = i;
        }
        for (int i = cpus - 1; i > 0; i--) { // Fisher-Yates
            int j = rnd.nextInt(i + 1);
            int tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
        int[] chosen = Arrays.copyOf(perm, n);
        Arrays.sort(chosen);
        return chosen;
    }

    @Override
    public void start(Kernel kernel, int cpus, long seed) {
        Params p = params;
        SplittableRandom root = new SplittableRandom(seed);
        int nRt = p.rtCpus >= 0 ? Math.min(p.rtCpus, cpus) : Math.max(1, cpus / 2);
        int[] rtCpus = chooseCpus(root.split(), cpus, nRt);
        int dlOn = root.nextInt(cpus);
        int stopOn = root.nextInt(cpus);

        for (int i = 0; i < p.extPerCpu * cpus; i++) {
            SplittableRandom rnd = root.split();
            Task t = kernel.fork(new Kernel.TaskSpec()
                    .comm("ext-" + i)
                    .cpu(i % cpus)
                    .behavior((self, step, now) -> step.run(Phases.uniform(rnd, p.extPhaseMinNs, p.extPhaseMaxNs))));
            if (t != null) {
                extTasks.add(t);
            }
        }
        for (int cpu : rtCpus) {
            rtCpuList.add((long) cpu);
            Burster b = new Burster(root.split(), p.rtSleepMinNs, p.rtSleepMaxNs, p.rtBurstMinNs, p.rtBurstMaxNs);
            b.task = kernel.fork(new Kernel.TaskSpec().comm("rt-" + cpu).policy(Task.SCHED_FIFO)
                    .allowed(CpuMask.of(cpu)).cpu(cpu).behavior(b));
            rt.add(b);
        }
        if (p.dlTask) {
            Burster b = new Burster(root.split(), p.dlSleepMinNs, p.dlSleepMaxNs, p.dlBurstMinNs, p.dlBurstMaxNs);
            b.task = kernel.fork(new Kernel.TaskSpec().comm("dl-" + dlOn).policy(Task.SCHED_DEADLINE)
                    .allowed(CpuMask.of(dlOn)).cpu(dlOn).behavior(b));
            dl.add(b);
            dlCpu = dlOn;
        }
        if (p.stopTask) {
            Burster b = new Burster(root.split(), p.stopSleepMinNs, p.stopSleepMaxNs, p.stopBurstMinNs,
                    p.stopBurstMaxNs);
            b.task = kernel.fork(new Kernel.TaskSpec().comm("migration/" + stopOn).stopper()
                    .allowed(CpuMask.of(stopOn)).cpu(stopOn).behavior(b));
            stop.add(b);
            stopCpu = stopOn;
        }
    }

    private static void putBursts(Map<String, Object> m, String prefix, List<Burster> list) {
        long bursts = 0;
        long runNs = 0;
        for (Burster b : list) {
            bursts += b.bursts;
            runNs += b.task == null ? 0 : b.task.sumExecRuntime();
        }
        m.put(prefix + "_tasks", (long) list.size());
        m.put(prefix + "_bursts", bursts);
        m.put(prefix + "_run_ns", runNs);
    }

    @Override
    public Map<String, Object> report() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rt_cpus", new ArrayList<Object>(rtCpuList));
        m.put("dl_cpu", dlCpu);
        m.put("stop_cpu", stopCpu);
        putBursts(m, "rt", rt);
        putBursts(m, "dl", dl);
        putBursts(m, "stop", stop);
        m.put("ext", Phases.runtimes(extTasks));
        return m;
    }
}
