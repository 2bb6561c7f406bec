// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.schedulers;

import static org.scxemu.scx.Scx.*;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.jctools.queues.MpmcArrayQueue;
import org.scxemu.kernel.ExitInfo;
import org.scxemu.kernel.Task;
import org.scxemu.scx.SchedExtOps;
import org.scxemu.scx.maps.QueueMap;

/**
 * scx_pair: a demo core scheduler that makes every sibling CPU pair run tasks of one cgroup at a
 * time (port of {@code scx_pair.bpf.c} and {@code scx_pair.c} as of the seed's series, where
 * "sched_ext: Implement sched_ext_ops.cpu_acquire/release()" gave it {@code cpu_acquire},
 * {@code cpu_release} and {@code SCX_KICK_WAIT}). This class is the whole scheduler except those
 * two ops; {@link ScxPair} adds them, {@link ScxPairNoCpuRelease} leaves them absent, and
 * {@link ScxPair#create} picks one (op presence is decided per class, as the struct_ops loader
 * decides it per program).
 *
 * <h2>Pairs</h2>
 * CPU {@code i} pairs with {@code (i + stride) % nr_cpu_ids} ({@code -S}, default
 * {@code nr_cpu_ids / 2}); each pair has an id (its lower CPU) and each CPU an in-pair index, 0 or
 * 1. A pair shares one {@code pair_ctx} under a lock (the {@code bpf_spin_lock}): the cgroup it
 * runs ({@code cgid}), when it started on it ({@code started_at}), whether that cgroup is
 * {@code draining}, the CPUs {@code active} on it and the CPUs {@code preempted} by a higher class.
 *
 * <h2>Queues</h2>
 * {@code ops.enqueue()} pushes the task's pid onto its cgroup's FIFO and, when that FIFO's length
 * goes 0 → 1, the cgroup id onto {@code top_q}. {@code ops.dispatch()} ({@code try_dispatch()},
 * repeated while it says {@code -EAGAIN}): clear this CPU's active bit; if the pair's batch
 * ({@code pair_batch_dur_ns} = {@code SCX_SLICE_DFL}) expired or the cgroup is draining, mark it
 * draining and, while the sibling is still active or preempted, dispatch nothing (kicking the
 * sibling with {@code SCX_KICK_PREEMPT} if the batch expired and it is not preempted); otherwise
 * pop the next cgroup with tasks from {@code top_q} (pushing it back), start a new batch on it and
 * kick the sibling. Then set the active bit, claim one task of the pair's cgroup (an empty cgroup
 * means draining and retry) and dispatch it to {@code SCX_DSQ_GLOBAL} with {@code SCX_SLICE_DFL}.
 * Dequeues are not handled: a popped pid whose task is gone counts as {@code missing}.
 *
 * <h2>Preemption (the seed)</h2>
 * {@code cpu_release} marks the CPU preempted, clears its active bit, marks the cgroup draining and,
 * if the sibling is active, kicks it with {@code SCX_KICK_PREEMPT | SCX_KICK_WAIT}: the kicking
 * CPU waits until the sibling went through the scheduler, so the higher-class task does not run
 * next to a task of the old cgroup. {@code cpu_acquire} clears the preempted bit and kicks the
 * sibling (unless it is preempted too) so the pair resumes.
 *
 * <h2>Holes in the original</h2>
 * Measured with the {@code pair} workload's observer, the original as written lets siblings run
 * ext tasks of different cgroups at once, for three reasons that have nothing to do with
 * preemption, and this port closes them unless {@link Options#asWritten}:
 * <ul>
 *   <li>it dispatches to {@code SCX_DSQ_GLOBAL}, which every CPU consumes at the top of
 *       {@code balance_scx()} before calling {@code ops.dispatch()}: when two pairs dispatch at the
 *       same moment (batch ends tend to line up) one CPU can take the other pair's task, or a CPU
 *       that is waiting for its sibling to drain can take any task. Here tasks go to the
 *       dispatching CPU's own {@code SCX_DSQ_LOCAL}, the one CPU the pair decision was made for;
 *   <li>it has no {@code ops.select_cpu()}, so the kernel's {@code scx_select_cpu_dfl()}
 *       dispatches a waking task directly to an idle CPU's local DSQ without calling
 *       {@code ops.enqueue()}, and a CPU idling while its sibling drains is such a CPU. Here
 *       {@code ops.select_cpu()} returns the previous CPU and dispatches nothing;
 *   <li>it does not set {@code SCX_OPS_ENQ_LAST}: when a CPU's task used up its slice and
 *       {@code ops.dispatch()} dispatched nothing because the pair is draining, the core puts the
 *       task back on the local DSQ as the CPU's last task ({@code put_prev_task_scx()} →
 *       {@code do_enqueue_task(SCX_ENQ_LAST)} → local) and runs it again with a fresh slice, with
 *       the CPU's active bit clear, so the sibling moves the pair to the next cgroup next to it.
 *       Here the flag is set and such a task goes through {@code ops.enqueue()} like any other.
 * </ul>
 * And one in its use of the seed's feature: when a higher class preempts a CPU, the ext task it
 * preempted is put back at the head of that CPU's local DSQ with its slice left
 * ({@code put_prev_task_scx()}); when the CPU comes back ({@code cpu_acquire}) the core runs that
 * task straight from the local DSQ, without {@code ops.dispatch()} and with the CPU's active bit
 * clear (cpu_release cleared it), while the sibling, kicked by {@code cpu_acquire}, may already
 * have moved the pair to another cgroup: an overlap until the sibling's kick reaches this CPU.
 * Here {@code cpu_release} also calls {@code scx_bpf_reenqueue_local()}, as the seed's scx_qmap
 * does, so the preempted task goes back to its cgroup's queue ({@code nr_reenqueued}).
 *
 * <h2>Cgroups in the emulator</h2>
 * The emulator has no cgroup ops ({@code ops.cgroup_init} / {@code cgroup_exit}) and no
 * {@code scx_bpf_task_cgroup()}: a task's cgroup is {@link Task#cgroupId()}, fixed at fork
 * ({@code TaskSpec.cgroup(id)}, 0 = the root group). The per-cgroup queue and its index
 * ({@code cgrp_q_idx_hash}, the "poor man's IDR" the original fills in {@code cgroup_init}) are
 * made lazily, the first time {@code ops.enqueue()} sees a cgroup id, and never freed (cgroups do
 * not go away here). At most {@code MAX_CGRPS} cgroups; one more is {@code scx_bpf_error()}, as a
 * failed {@code cgroup_init} would fail the cgroup's creation.
 *
 * <p>{@code top_q} holds u64 cgroup ids, which a {@link QueueMap} (u32 values) cannot: a JCTools
 * {@link MpmcArrayQueue} of the same capacity stands in for it.
 *
 * <p>Counters ({@link #stats()}), by their BPF names: {@code nr_total} (enqueues),
 * {@code nr_dispatched}, {@code nr_missing}, {@code nr_kicks}, {@code nr_preemptions}
 * ({@code cpu_release} calls), {@code nr_exps} (expired or draining batches seen by dispatch),
 * {@code nr_exp_waits} (dispatches that waited for the sibling), {@code nr_exp_empty} (no cgroup
 * had tasks), {@code nr_cgrp_next} (cgroup switches), {@code nr_cgrp_coll} (the sibling switched
 * first), {@code nr_cgrp_empty}. {@link #statsLine()} prints them as scx_pair.c does each second.
 *
 * <p>Threads: rodata ({@code pairCpu}, {@code pairId}, {@code inPairIdx}, the batch) is final;
 * {@code pair_ctx} fields are guarded by their pair's lock; the queues and counters are lock-free
 * and thread-safe. As in the original, the cgroup queues are read and claimed outside the pair
 * lock ("it'd be better to do all these with the lock held, oh well").
 *
 * <p>Memory consistency effects: taking a pair's lock orders everything its previous holder did;
 * a pid pushed by ops.enqueue() is popped with everything before the push visible;
 * {@link #stats()} and {@link #statsLine()} read racily, as user space reads the BPF variables.
 */
public abstract class PairCore implements SchedExtOps {
    /** scx_pair.h */
    static final int MAX_QUEUED = 4096;
    static final int MAX_CGRPS = 4096;
    /** bpf_repeat()'s bound, BPF_MAX_LOOPS. */
    static final int BPF_MAX_LOOPS = 8 * 1024 * 1024;
    static final int EAGAIN = 11;

    /** What scx_pair's command line sets, with its defaults. Read once, by the constructor. */
    public static class Options {
        /** nr_cpu_ids: set by the loader from the machine. */
        public int nrCpuIds = 2;
        /** {@code -S STRIDE}: CPU i pairs with (i + stride) % nr_cpu_ids; default nr_cpu_ids / 2. */
        public int stride = 1;
        /** pair_batch_dur_ns: how long a pair stays on a cgroup. */
        public long pairBatchDurNs = SCX_SLICE_DFL;
        /** Implement ops.cpu_acquire() and ops.cpu_release(); false gives {@link ScxPairNoCpuRelease}. */
        public boolean cpuRelease = true;
        /**
         * As written: dispatch to {@code SCX_DSQ_GLOBAL} and let wakeups be dispatched directly to
         * idle CPUs, as the original does (see "Holes in the original" in the class comment).
         */
        public boolean asWritten;
    }

    /** struct pair_ctx: guarded by {@code lock} (the bpf_spin_lock). */
    static final class PairCtx {
        final ReentrantLock lock = new ReentrantLock();
        /** the cgroup the pair is currently executing */
        long cgid;
        /** the pair started executing the current cgroup at */
        long startedAt;
        /**
         * whether the current cgroup is draining. Starts true: the original relies on a fresh
         * pair_ctx (started_at 0) counting as expired, which bpf_ktime_get_ns() (time since boot)
         * guarantees; the emulated clock may start near 0, so the first batch is marked over here.
         */
        boolean draining = true;
        /** the CPUs that are currently active on the cgroup */
        int activeMask;
        /** the CPUs that are currently preempted and running tasks in a different scheduler */
        int preemptedMask;
    }

    /** A cgroup's FIFO (cgrp_q_arr[q_idx]) and its length (cgrp_q_len[q_idx]). */
    static final class CgrpQ {
        final long cgid;
        final QueueMap q = new QueueMap(MAX_QUEUED);
        final AtomicLong len = new AtomicLong();

        CgrpQ(long cgid) {
            this.cgid = cgid;
        }
    }

    // --- rodata -----------------------------------------------------------------------------------
    final int nrCpuIds;
    /** Options.asWritten */
    private final boolean asWritten;
    /** Where try_dispatch() sends a task: SCX_DSQ_LOCAL, or SCX_DSQ_GLOBAL as written. */
    private final long dispatchDsq;
    private final long pairBatchDurNs;
    /** cpu ID -> pair cpu ID */
    final int[] pairCpu;
    /** cpu ID -> pair_id */
    private final int[] pairId;
    /** CPU ID -> CPU # in the pair (0 or 1) */
    private final int[] inPairIdx;

    // --- maps and bss: any thread ------------------------------------------------------------------
    /** pair_ctx, by pair id. */
    private final PairCtx[] pairCtx;
    /** top_q: cgroup ids possibly with tasks, possibly several times (see the class comment). */
    private final MpmcArrayQueue<Long> topQ = new MpmcArrayQueue<>(4 * MAX_CGRPS);
    /** cgrp_q_idx_hash + cgrp_q_arr + cgrp_q_len, made lazily (see the class comment). */
    private final ConcurrentHashMap<Long, CgrpQ> cgrpQ = new ConcurrentHashMap<>();
    private final AtomicInteger nrCgrps = new AtomicInteger();

    private final AtomicLong nrTotal = new AtomicLong();
    private final AtomicLong nrDispatched = new AtomicLong();
    private final AtomicLong nrMissing = new AtomicLong();
    private final AtomicLong nrKicks = new AtomicLong();
    private final AtomicLong nrPreemptions = new AtomicLong();
    private final AtomicLong nrExps = new AtomicLong();
    private final AtomicLong nrExpWaits = new AtomicLong();
    private final AtomicLong nrExpEmpty = new AtomicLong();
    private final AtomicLong nrCgrpNext = new AtomicLong();
    private final AtomicLong nrCgrpColl = new AtomicLong();
    private final AtomicLong nrCgrpEmpty = new AtomicLong();
    /** Not in the original: tasks cpu_release re-enqueued (see "Holes in the original"). */
    private final AtomicLong nrReenqueued = new AtomicLong();

    /** UEI_DEFINE(uei) */
    private volatile ExitInfo uei;
    private final AtomicLong seq = new AtomicLong();

    /** Whether {@code stride} pairs up {@code nrCpuIds} CPUs, as scx_pair.c's SCX_BUG_ON()s check. */
    public static boolean validStride(int nrCpuIds, int stride) {
        return pairing(nrCpuIds, stride) != null;
    }

    /** scx_pair.c's pairing loop: pair_cpu[], or null for an invalid stride. */
    static int[] pairing(int nrCpuIds, int stride) {
        if (nrCpuIds < 2 || stride <= 0) {
            return null;
        }
        int[] pair = new int[nrCpuIds];
        java.util.Arrays.fill(pair, -1);
        for (int i = 0; i < nrCpuIds; i++) {
            int j = (i + stride) % nrCpuIds;
            if (pair[i] >= 0) {
                continue;
            }
            if (i == j || pair[j] >= 0) {
                return null; // own pair, or three CPUs want to be a pair
            }
            pair[i] = j;
            pair[j] = i;
        }
        return pair;
    }

    PairCore(Options o) {
        int[] pc = pairing(o.nrCpuIds, o.stride);
        if (pc == null) {
            throw new IllegalArgumentException("invalid stride " + o.stride + " for " + o.nrCpuIds + " CPUs");
        }
        this.nrCpuIds = o.nrCpuIds;
        this.asWritten = o.asWritten;
        this.dispatchDsq = o.asWritten ? SCX_DSQ_GLOBAL : SCX_DSQ_LOCAL;
        this.pairBatchDurNs = o.pairBatchDurNs;
        this.pairCpu = pc;
        this.pairId = new int[nrCpuIds];
        this.inPairIdx = new int[nrCpuIds];
        for (int i = 0; i < nrCpuIds; i++) {
            int j = pc[i];
            if (i < j) {
                pairId[i] = i;
                pairId[j] = i;
                inPairIdx[i] = 0;
                inPairIdx[j] = 1;
            }
        }
        this.pairCtx = new PairCtx[nrCpuIds];
        for (int i = 0; i < nrCpuIds; i++) {
            pairCtx[i] = new PairCtx();
        }
    }

    /** The CPU {@code cpu} is paired with. */
    public final int pairCpu(int cpu) {
        return pairCpu[cpu];
    }

    /** (s64)(a - b) &lt; 0 */
    static boolean timeBefore(long a, long b) {
        return a - b < 0;
    }

    @Override
    public final String name() {
        return "pair";
    }

    /** SCX_OPS_ENQ_LAST, unless as written (see "Holes in the original"). */
    @Override
    public final long flags() {
        return asWritten ? 0 : SCX_OPS_ENQ_LAST;
    }

    /** Scratch for scx_bpf_select_cpu_dfl()'s is_idle, per thread. */
    private static final ThreadLocal<boolean[]> IS_IDLE = ThreadLocal.withInitial(() -> new boolean[1]);

    /**
     * pair_select_cpu(): not in the original (see "Holes in the original"). Keeps every
     * wakeup on its previous CPU and lets ops.enqueue() queue it by cgroup. As written, it does
     * exactly what the kernel does for an absent ops.select_cpu(): scx_select_cpu_dfl() and, when
     * that found an idle CPU, a direct dispatch to it with SCX_SLICE_DFL.
     */
    @Override
    public final int selectCpu(Task p, int prevCpu, long wakeFlags) {
        if (!asWritten) {
            return prevCpu;
        }
        boolean[] isIdle = IS_IDLE.get();
        isIdle[0] = false;
        int cpu = scx_bpf_select_cpu_dfl(p, prevCpu, wakeFlags, isIdle);
        if (isIdle[0]) {
            scx_bpf_dispatch(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, 0);
        }
        return cpu;
    }

    /** cgrp_q_idx_hash lookup, allocating on first sight (the emulator's cgroup_init). */
    private CgrpQ cgrpQOf(long cgid) {
        CgrpQ q = cgrpQ.get(cgid);
        if (q != null) {
            return q;
        }
        if (nrCgrps.incrementAndGet() > MAX_CGRPS) {
            nrCgrps.decrementAndGet();
            return null;
        }
        CgrpQ fresh = new CgrpQ(cgid);
        CgrpQ prev = cgrpQ.putIfAbsent(cgid, fresh);
        if (prev != null) {
            nrCgrps.decrementAndGet();
            return prev;
        }
        return fresh;
    }

    /** pair_enqueue() */
    @Override
    public final void enqueue(Task p, long enqFlags) {
        int pid = p.pid;

        nrTotal.incrementAndGet();

        long cgid = p.cgroupId();

        // find the cgroup's q and push @p into it
        CgrpQ cgq = cgrpQOf(cgid);
        if (cgq == null) {
            scx_bpf_error("failed to lookup q_idx for cgroup[%llu]", cgid);
            return;
        }

        if (cgq.q.push(pid) != 0) {
            scx_bpf_error("cgroup[%llu] queue overflow", cgid);
            return;
        }

        // bump q len, if going 0 -> 1, queue cgroup into the top_q
        if (cgq.len.getAndIncrement() == 0 && !topQ.offer(cgid)) {
            scx_bpf_error("top_q overflow");
        }
    }

    /** try_dispatch(): 0, -EAGAIN (try again) or -ENOENT. */
    private int tryDispatch(int cpu) {
        PairCtx pairc = pairCtx[pairId[cpu]];
        int inPairMask = 1 << inPairIdx[cpu];
        long now = bpf_ktime_get_ns();
        boolean kickPair = false;
        boolean expired;
        boolean pairPreempted;
        long cgid;

        pairc.lock.lock();
        pairc.activeMask &= ~inPairMask;

        expired = timeBefore(pairc.startedAt + pairBatchDurNs, now);
        if (expired || pairc.draining) {
            long newCgid = 0;

            nrExps.incrementAndGet();

            // We're done with the current cgid. An obvious optimization would be not draining if
            // the next cgroup is the current one. For now, be dumb and always expire.
            pairc.draining = true;

            pairPreempted = pairc.preemptedMask != 0;
            if (pairc.activeMask != 0 || pairPreempted) {
                // The other CPU is still active, or is no longer under our control (e.g.
                // preempted by a higher class). Wait until this cgroup expires, or until control of
                // the pair CPU has been returned to us. If the pair controls its CPU and the time
                // already expired, kick: when it arrives at dispatch and clears its active bit, it
                // will move the pair to the next cgroup and kick this CPU.
                nrExpWaits.incrementAndGet();
                pairc.lock.unlock();
                if (expired && !pairPreempted) {
                    kickPair = true;
                }
                maybeKickPair(cpu, kickPair);
                return 0;
            }

            pairc.lock.unlock();

            // Pick the next cgroup. Opportunistic, without the pair lock (as the original).
            boolean found = false;
            for (int loop = 0; loop < BPF_MAX_LOOPS; loop++) {
                Long head = topQ.poll();
                if (head == null) {
                    // no active cgroup, go idle
                    nrExpEmpty.incrementAndGet();
                    return 0;
                }
                newCgid = head;

                CgrpQ q = cgrpQ.get(newCgid);
                if (q == null) {
                    continue;
                }

                // This is the only place where empty cgroups are taken off the top_q.
                if (q.len.get() == 0) {
                    continue;
                }

                // If it has any tasks, requeue as we may race and not execute it.
                topQ.offer(newCgid);
                found = true;
                break;
            }
            if (!found) {
                return 0;
            }

            pairc.lock.lock();

            // The other CPU may already have started on a new cgroup while we dropped the lock.
            // Make sure that we're still draining and start on the new cgroup.
            if (pairc.draining && pairc.activeMask == 0) {
                nrCgrpNext.incrementAndGet();
                pairc.cgid = newCgid;
                pairc.startedAt = now;
                pairc.draining = false;
                kickPair = true;
            } else {
                nrCgrpColl.incrementAndGet();
            }
        }

        cgid = pairc.cgid;
        pairc.activeMask |= inPairMask;
        pairc.lock.unlock();

        // again, it'd be better to do all these with the lock held, oh well
        CgrpQ q = cgrpQ.get(cgid);
        if (q == null) {
            scx_bpf_error("failed to lookup q_idx for cgroup[%llu]", cgid);
            return -ENOENT;
        }

        // claim one task from cgrp_q
        for (int loop = 0; loop < BPF_MAX_LOOPS; loop++) {
            long len = q.len.get();
            if (len == 0) {
                // the cgroup must be empty, expire and repeat
                nrCgrpEmpty.incrementAndGet();
                pairc.lock.lock();
                try {
                    pairc.draining = true;
                    pairc.activeMask &= ~inPairMask;
                } finally {
                    pairc.lock.unlock();
                }
                return -EAGAIN;
            }
            if (q.len.compareAndSet(len, len - 1)) {
                break;
            }
        }

        long pid = q.q.pop();
        if (pid < 0) {
            scx_bpf_error("cgq_map is empty for cgroup[%llu]", cgid);
            return -ENOENT;
        }

        Task p = bpf_task_from_pid((int) pid);
        if (p != null) {
            nrDispatched.incrementAndGet();
            scx_bpf_dispatch(p, dispatchDsq, SCX_SLICE_DFL, 0);
            bpf_task_release(p);
        } else {
            // we don't handle dequeues, retry on lost tasks
            nrMissing.incrementAndGet();
            return -EAGAIN;
        }

        maybeKickPair(cpu, kickPair);
        return 0;
    }

    /** The out_maybe_kick: label of try_dispatch(). */
    private void maybeKickPair(int cpu, boolean kickPair) {
        if (kickPair) {
            nrKicks.incrementAndGet();
            scx_bpf_kick_cpu(pairCpu[cpu], SCX_KICK_PREEMPT);
        }
    }

    /** pair_dispatch() */
    @Override
    public final void dispatch(int cpu, Task prev) {
        for (int loop = 0; loop < BPF_MAX_LOOPS; loop++) {
            if (tryDispatch(cpu) != -EAGAIN) {
                break;
            }
        }
    }

    /**
     * pair_cpu_acquire(): control of {@code cpu} is back; unmark the preemption and kick the
     * sibling, unless it is preempted too. Declared as an op by {@link ScxPair} only.
     */
    final void pairCpuAcquire(int cpu, CpuAcquireArgs args) {
        PairCtx pairc = pairCtx[pairId[cpu]];
        int inPairMask = 1 << inPairIdx[cpu];
        boolean kickPair;

        pairc.lock.lock();
        try {
            pairc.preemptedMask &= ~inPairMask;
            // Kick the pair CPU, unless it was also preempted.
            kickPair = pairc.preemptedMask == 0;
        } finally {
            pairc.lock.unlock();
        }

        if (kickPair) {
            nrKicks.incrementAndGet();
            scx_bpf_kick_cpu(pairCpu[cpu], SCX_KICK_PREEMPT);
        }
    }

    /**
     * pair_cpu_release(): a higher class took {@code cpu}; mark it preempted and, if the sibling
     * is still running, kick it with {@code kickFlags} ({@code SCX_KICK_PREEMPT | SCX_KICK_WAIT} in
     * the scheduler; a test may pass less to break the guarantee on purpose). Declared as an op by
     * {@link ScxPair} only.
     */
    final void pairCpuRelease(int cpu, CpuReleaseArgs args, long kickFlags) {
        PairCtx pairc = pairCtx[pairId[cpu]];
        int inPairMask = 1 << inPairIdx[cpu];
        boolean kickPair;

        pairc.lock.lock();
        try {
            pairc.preemptedMask |= inPairMask;
            pairc.activeMask &= ~inPairMask;
            // Kick the pair CPU if it's still running.
            kickPair = pairc.activeMask != 0;
            pairc.draining = true;
        } finally {
            pairc.lock.unlock();
        }

        if (kickPair) {
            nrKicks.incrementAndGet();
            scx_bpf_kick_cpu(pairCpu[cpu], kickFlags);
        }
        // Not in the original (see "Holes in the original"): the task the higher class preempted
        // sits at the head of this CPU's local DSQ and would run again at cpu_acquire time without
        // ops.dispatch(), whatever cgroup the pair has moved on to. Send it back to its cgroup.
        if (!asWritten) {
            nrReenqueued.addAndGet(Integer.toUnsignedLong(scx_bpf_reenqueue_local()));
        }
        nrPreemptions.incrementAndGet();
    }

    /** pair_exit(): UEI_RECORD(uei, ei). */
    @Override
    public final void exit(ExitInfo info) {
        uei = info;
    }

    // --- the user-space half -------------------------------------------------------------------------

    /** UEI_EXITED() */
    public final ExitInfo exitInfo() {
        return uei;
    }

    /** scx_pair.c's "Pairs: [0, 2] [1, 3] " line. */
    public final String pairsLine() {
        StringBuilder sb = new StringBuilder("Pairs: ");
        for (int i = 0; i < nrCpuIds; i++) {
            if (i < pairCpu[i]) {
                sb.append('[').append(i).append(", ").append(pairCpu[i]).append("] ");
            }
        }
        return sb.toString();
    }

    /** The BPF side's counters, by their BPF names. */
    @Override
    public final Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("nr_total", nrTotal.get());
        m.put("nr_dispatched", nrDispatched.get());
        m.put("nr_missing", nrMissing.get());
        m.put("nr_kicks", nrKicks.get());
        m.put("nr_preemptions", nrPreemptions.get());
        m.put("nr_exps", nrExps.get());
        m.put("nr_exp_waits", nrExpWaits.get());
        m.put("nr_exp_empty", nrExpEmpty.get());
        m.put("nr_cgrp_next", nrCgrpNext.get());
        m.put("nr_cgrp_coll", nrCgrpColl.get());
        m.put("nr_cgrp_empty", nrCgrpEmpty.get());
        m.put("nr_reenqueued", nrReenqueued.get());
        return Collections.unmodifiableMap(m);
    }

    /** What scx_pair.c prints every second (each call is the next {@code [SEQ n]}). */
    @Override
    public final String statsLine() {
        return String.format(Locale.ROOT, "[SEQ %d]%n", seq.getAndIncrement())
                + String.format(Locale.ROOT, " total:%10s dispatch:%10s   missing:%10s%n", u(nrTotal),
                        u(nrDispatched), u(nrMissing))
                + String.format(Locale.ROOT, " kicks:%10s preemptions:%7s%n", u(nrKicks), u(nrPreemptions))
                + String.format(Locale.ROOT, "   exp:%10s exp_wait:%10s exp_empty:%10s%n", u(nrExps),
                        u(nrExpWaits), u(nrExpEmpty))
                + String.format(Locale.ROOT, "cgnext:%10s   cgcoll:%10s   cgempty:%10s", u(nrCgrpNext),
                        u(nrCgrpColl), u(nrCgrpEmpty));
    }

    private static String u(AtomicLong v) {
        return Long.toUnsignedString(v.get());
    }
}
