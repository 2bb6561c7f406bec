// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.workload;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;
import org.scxemu.kernel.Behavior;
import org.scxemu.kernel.CpuMask;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.SchedClass;
import org.scxemu.kernel.Step;
import org.scxemu.kernel.Task;

/**
 * {@code pair}: tasks in several cgroups plus RT bursts, and an observer that counts pairing
 * violations: the situation {@code scx_pair} exists for and the measure of its guarantee.
 *
 * <p>{@code extPerCpu * cpus} SCHED_NORMAL tasks are spread round-robin over {@code cgroups}
 * cgroups (ids 1..cgroups, set at fork with {@code TaskSpec.cgroup(id)}); every
 * {@code sleeperEvery}-th of them alternates runs with short sleeps, the others only run (phases of
 * {@code extPhaseMin..extPhaseMax}). On top, one SCHED_FIFO task pinned to each of {@code rtCpus}
 * CPUs chosen from the seed (all of them by default) sleeps {@code rtSleepMin..rtSleepMax} and runs a
 * burst of {@code rtBurstMin..rtBurstMax}, so bursts land on random CPUs at random times and take
 * them away from sched_ext ({@code ops.cpu_release()}).
 *
 * <h2>The pairing-violation observer</h2>
 * A daemon thread ({@code pair-observer}) samples the CPUs' published state, not any scheduler's
 * bookkeeping: for each pair of sibling CPUs (CPU {@code i} and {@code (i + stride) % cpus}, the
 * pairing scx_pair uses, {@code stride = cpus / 2} by default) it reads both {@code rq->curr}s
 * with both siblings' rq locks held ({@link Kernel#currOfPair}, the kernel's double_rq_lock()).
 * A CPU holds its rq lock through __schedule() except where balance_scx() drops it to pull a task
 * from another rq; a snapshot taken in that window, when either CPU has {@code SCX_RQ_BALANCING}
 * set, names as that CPU's {@code curr} the task it is switching away from, which is not running:
 * such a sample is skipped ({@code pairing_inconsistent_samples}). A violation sample is one where
 * both tasks are in the ext class and their cgroups differ. (An earlier racy double read of the
 * volatile {@code rq->curr}s occasionally reported a single violation sample while a CPU was
 * inside __schedule() with {@code curr} still naming the task it was leaving; so did the locked
 * snapshot, more rarely, before it skipped the balance window.) A run of
 * consecutive violating samples of the same two tasks is one
 * <em>violation</em>: {@code pairing_violations} counts those, {@code pairing_violation_samples}
 * the samples. Sampling stops when the kernel stops (the CPU threads freeze their {@code curr}).
 *
 * <p>Threads: tasks and behaviours as in {@link RtPreempt}. The observer's counters are written by
 * the observer thread only and read by {@link #report} after joining it.
 */
public final class Pair implements Workload {
    public static final String NAME = "pair";

    /** The workload's knobs; the defaults are what {@code --workload pair} runs. */
    public static final class Params {
        public int cgroups = 3;
        public int extPerCpu = 3;
        /** Every Nth ext task sleeps between runs; 0 = none. */
        public int sleeperEvery = 3;
        public long extPhaseMinNs = 1_000_000L;
        public long extPhaseMaxNs = 5_000_000L;
        public long extSleepMinNs = 500_000L;
        public long extSleepMaxNs = 3_000_000L;
        /** CPUs that get a SCHED_FIFO task; -1 means all of them. */
        public int rtCpus = -1;
        public long rtSleepMinNs = 5_000_000L;
        public long rtSleepMaxNs = 30_000_000L;
        public long rtBurstMinNs = 500_000L;
        public long rtBurstMaxNs = 5_000_000L;
        /** The pairing the observer checks: CPU i with (i + stride) % cpus; -1 means cpus / 2. */
        public int stride = -1;
        /** Pause between two observations of all pairs. */
        public long sampleIntervalNs = 20_000L;
        /** Keep the observer off (the workload alone). */
        public boolean observe = true;
        /** How the observer reads a pair's current tasks; the default takes both rq locks. */
        public Sampler sampler = Pair::sampleLocked;

        void validate() {
            if (cgroups < 1 || extPerCpu < 1 || sleeperEvery < 0) {
                throw new IllegalArgumentException("cgroups and extPerCpu must be >= 1, sleeperEvery >= 0");
            }
            Phases.checkRange("ext phase", extPhaseMinNs, extPhaseMaxNs);
            Phases.checkRange("ext sleep", extSleepMinNs, extSleepMaxNs);
            Phases.checkRange("rt sleep", rtSleepMinNs, rtSleepMaxNs);
            Phases.checkRange("rt burst", rtBurstMinNs, rtBurstMaxNs);
        }
    }

    private static final int MAX_EXAMPLES = 8;

    /**
     * Reads the current tasks of CPUs {@code a} and {@code b} into {@code out[0]} and
     * {@code out[1]}; returns false when the observation is not consistent and must be skipped.
     */
    @FunctionalInterface
    public interface Sampler {
        boolean sample(Kernel k, int a, int b, Task[] out);
    }

    /**
     * The default {@link Sampler}: both {@code rq->curr}s under both rq locks; not consistent while
     * either CPU is in balance_scx() with its rq lock dropped (see the class comment).
     */
    static boolean sampleLocked(Kernel k, int a, int b, Task[] out) {
        return k.currOfPair(a, b, out);
    }

    private final Params params;
    /** Written by start() on the harness thread, read by report() after the run. */
    private final List<Task> extTasks = new ArrayList<>();
    private final List<Burster> rt = new ArrayList<>();
    private final List<Long> rtCpuList = new ArrayList<>();
    private int[] pairCpu;
    private Thread observer;
    private volatile boolean stopObserver;
    // observer thread only, then report()
    private long samples;
    private long violationSamples;
    private long violations;
    private long inconsistent;
    private long higherClassSamples;
    private long higherClassOverlaps;
    private final List<Object> examples = new ArrayList<>();

    public Pair() {
        this(new Params());
    }

    public Pair(Params params) {
        params.validate();
        this.params = params;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return params.extPerCpu + " x cpus ext tasks in " + params.cgroups + " cgroups plus RT bursts on random CPUs;"
                + " counts pairing violations (siblings running ext tasks of different cgroups)";
    }

    /** Sleep, run a burst, sleep, ... */
    private static final class Burster implements Behavior {
        final SplittableRandom rnd;
        final Params p;
        Task task;
        boolean burstNext;
        long bursts;

        Burster(SplittableRandom rnd, Params p) {
            this.rnd = rnd;
            this.p = p;
        }

        @Override
        public void next(Task self, Step step, long nowNs) {
            if (burstNext) {
                bursts++;
                step.run(Phases.uniform(rnd, p.rtBurstMinNs, p.rtBurstMaxNs));
            } else {
                step.sleep(Phases.uniform(rnd, p.rtSleepMinNs, p.rtSleepMaxNs));
            }
            burstNext = !burstNext;
        }
    }

    /** Runs, and sleeps between runs if {@code sleeps}. */
    private static Behavior extBehavior(SplittableRandom rnd, Params p, boolean sleeps) {
        boolean[] runNext = {true};
        return (self, step, now) -> {
            if (!sleeps || runNext[0]) {
                step.run(Phases.uniform(rnd, p.extPhaseMinNs, p.extPhaseMaxNs));
            } else {
                step.sleep(Phases.uniform(rnd, p.extSleepMinNs, p.extSleepMaxNs));
            }
            runNext[0] = !runNext[0];
        };
    }

    /** CPU i's sibling for {@code stride}, or null if the stride does not pair the CPUs up. */
    static int[] pairing(int cpus, int stride) {
        if (cpus < 2 || stride <= 0) {
            return null;
        }
        int[] pair = new int[cpus];
        java.util.Arrays.fill(pair, -1);
        for (int i = 0; i < cpus; i++) {
            int j = (i + stride) % cpus;
            if (pair[i] >= 0) {
                continue;
            }
            if (i == j || pair[j] >= 0) {
                return null;
            }
            pair[i] = j;
            pair[j] = i;
        }
        return pair;
    }

    @Override
    public void start(Kernel kernel, int cpus, long seed) {
        Params p = params;
        SplittableRandom root = new SplittableRandom(seed);
        int nRt = p.rtCpus >= 0 ? Math.min(p.rtCpus, cpus) : cpus;
        int[] rtCpus = RtPreempt.chooseCpus(root.split(), cpus, nRt);
        for (int i = 0; i < p.extPerCpu * cpus; i++) {
            SplittableRandom rnd = root.split();
            boolean sleeps = p.sleeperEvery > 0 && i % p.sleeperEvery == p.sleeperEvery - 1;
            Task t = kernel.fork(new Kernel.TaskSpec()
                    .comm("cg" + (1 + i % p.cgroups) + "-" + i)
                    .cgroup(1 + i % p.cgroups)
                    .cpu(i % cpus)
                    .behavior(extBehavior(rnd, p, sleeps)));
            if (t != null) {
                extTasks.add(t);
            }
        }
        for (int cpu : rtCpus) {
            rtCpuList.add((long) cpu);
            Burster b = new Burster(root.split(), p);
            b.task = kernel.fork(new Kernel.TaskSpec().comm("rt-" + cpu).policy(Task.SCHED_FIFO)
                    .allowed(CpuMask.of(cpu)).cpu(cpu).behavior(b));
            rt.add(b);
        }
        pairCpu = pairing(cpus, p.stride > 0 ? p.stride : cpus / 2);
        if (p.observe && pairCpu != null) {
            observer = new Thread(() -> observe(kernel), "pair-observer");
            observer.setDaemon(true);
            observer.start();
        }
    }

    private static boolean isExt(Task t) {
        return t.schedClass() == SchedClass.EXT;
    }

    /** The observer thread: see the class comment. */
    private void observe(Kernel k) {
        int cpus = pairCpu.length;
        Task[] lastA = new Task[cpus];
        Task[] lastB = new Task[cpus];
        Task[] lastHa = new Task[cpus];
        Task[] lastHb = new Task[cpus];
        Task[] pair = new Task[2];
        while (!stopObserver && !k.isStopping()) {
            for (int i = 0; i < cpus; i++) {
                int j = pairCpu[i];
                if (j < i) {
                    continue;
                }
                boolean consistent = params.sampler.sample(k, i, j, pair);
                Task a1 = pair[0];
                Task b1 = pair[1];
                if (k.isStopping()) {
                    return;
                }
                samples++;
                if (!consistent) {
                    inconsistent++;
                    continue;
                }
                boolean higher = (isExt(a1) && b1.schedClass().above(SchedClass.EXT))
                        || (isExt(b1) && a1.schedClass().above(SchedClass.EXT));
                if (higher) {
                    higherClassSamples++;
                    if (lastHa[i] != a1 || lastHb[i] != b1) {
                        higherClassOverlaps++;
                    }
                    lastHa[i] = a1;
                    lastHb[i] = b1;
                } else {
                    lastHa[i] = null;
                    lastHb[i] = null;
                }
                boolean violating = isExt(a1) && isExt(b1) && a1.cgroupId() != b1.cgroupId();
                if (!violating) {
                    lastA[i] = null;
                    lastB[i] = null;
                    continue;
                }
                violationSamples++;
                if (lastA[i] != a1 || lastB[i] != b1) {
                    violations++;
                    if (examples.size() < MAX_EXAMPLES) {
                        Map<String, Object> e = new LinkedHashMap<>();
                        e.put("at_ns", k.now());
                        e.put("cpus", List.of((long) i, (long) j));
                        e.put("tasks", List.of(a1.toString(), b1.toString()));
                        e.put("cgroups", List.of(a1.cgroupId(), b1.cgroupId()));
                        examples.add(e);
                    }
                }
                lastA[i] = a1;
                lastB[i] = b1;
            }
            LockSupport.parkNanos(params.sampleIntervalNs);
        }
    }

    /** Stops the observer and waits for it. Idempotent. */
    private void stopObserver() {
        stopObserver = true;
        Thread t = observer;
        if (t != null) {
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Violations counted so far (racy while the observer runs). */
    public long pairingViolations() {
        return violations;
    }

    @Override
    public Map<String, Object> report() {
        stopObserver();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cgroups", (long) params.cgroups);
        List<Object> pairs = new ArrayList<>();
        if (pairCpu != null) {
            for (int i = 0; i < pairCpu.length; i++) {
                if (i < pairCpu[i]) {
                    pairs.add(List.of((long) i, (long) pairCpu[i]));
                }
            }
        }
        m.put("pairs", pairs);
        m.put("pairing_violations", violations);
        m.put("pairing_violation_samples", violationSamples);
        m.put("pairing_samples", samples);
        m.put("pairing_inconsistent_samples", inconsistent);
        m.put("higher_class_overlaps", higherClassOverlaps);
        m.put("higher_class_overlap_samples", higherClassSamples);
        m.put("pairing_violation_examples", new ArrayList<>(examples));
        m.put("rt_cpus", new ArrayList<Object>(rtCpuList));
        long bursts = 0;
        long runNs = 0;
        for (Burster b : rt) {
            bursts += b.bursts;
            runNs += b.task == null ? 0 : b.task.sumExecRuntime();
        }
        m.put("rt_tasks", (long) rt.size());
        m.put("rt_bursts", bursts);
        m.put("rt_run_ns", runNs);
        Map<String, Object> perCg = new LinkedHashMap<>();
        for (int cg = 1; cg <= params.cgroups; cg++) {
            List<Task> l = new ArrayList<>();
            for (Task t : extTasks) {
                if (t.cgroupId() == cg) {
                    l.add(t);
                }
            }
            perCg.put(Integer.toString(cg), Phases.runtimes(l));
        }
        m.put("ext", Phases.runtimes(extTasks));
        m.put("ext_by_cgroup", perCg);
        return m;
    }
}
