// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.schedulers;

import static org.scxemu.scx.Scx.*;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongUnaryOperator;
import org.scxemu.kernel.CpuMask;
import org.scxemu.kernel.DsqIter;
import org.scxemu.kernel.ExitInfo;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.Task;
import org.scxemu.scx.BpfTimer;
import org.scxemu.scx.SchedExtOps;
import org.scxemu.scx.maps.PerCpuArray;
import org.scxemu.scx.maps.QueueMap;
import org.scxemu.scx.maps.TaskStorage;

/**
 * scx_qmap as the 6.12 kernel ships it ({@code tools/sched_ext/scx_qmap.bpf.c} and
 * {@code scx_qmap.c} of 6.12), for {@code --kernel 6.12} and later: CLI name {@code qmap-6.12}.
 * The default {@code qmap} ({@link ScxQmap}) stays the seed's v7 version.
 *
 * <p>The same five weight-indexed FIFOs as the seed's, plus what 6.12 added:
 * <ul>
 *   <li><b>high-priority boosting</b> ({@link Options#highpriBoosting}, {@code -H}): tasks of
 *       weight {@code >= HIGHPRI_WEIGHT} (nice -20) are marked when queued; every ops.dispatch()
 *       and the one-second timer first walk {@code SHARED_DSQ} with the DSQ iterator and move the
 *       marked tasks, in the order met, to the vtime-ordered {@code HIGHPRI_DSQ}
 *       ({@code scx_bpf_dispatch_vtime_from_dsq()} with a doubled slice and a rising vtime), then
 *       walk {@code HIGHPRI_DSQ} and move each task to the local DSQ of this CPU (or of any CPU
 *       it may use) with {@code SCX_ENQ_PREEMPT} ({@code scx_bpf_dispatch_from_dsq()}). The timer
 *       does this from an unlocked context, the kfuncs' second allowed context;
 *   <li>direct dispatch from ops.enqueue() to {@code SCX_DSQ_LOCAL_ON | cpu} when ops.select_cpu()
 *       was skipped (not a wakeup) and an idle CPU is found ({@code nr_ddsp_from_enq});
 *   <li>core-scheduling order ({@code ops.core_sched_before()} over per-FIFO sequence numbers);
 *   <li>cpuperf: ops.tick() sets each CPU's performance target from a running average of the
 *       weights it runs, and the timer gathers cur/target min/avg/max over the online CPUs;
 *   <li>{@code ops.cpu_online()/cpu_offline()} print the CPU map (possible/online cpumasks);
 *   <li>{@code -P}: the timer prints {@code SHARED_DSQ} last to first ({@code SCX_DSQ_ITER_REV});
 *   <li>{@code -d TGID}: tasks of that thread group are kept out of sched_ext
 *       ({@code p->scx.disallow}); every task is its own thread group here.
 * </ul>
 * ops.cpu_release() re-enqueues a preempted CPU's local DSQ as in the seed's version.
 *
 * <p>Two differences from the 6.12 source, both about the kernel it runs on: the enqueue-path
 * direct dispatch tests {@code SCX_ENQ_WAKEUP} (6.12.0's form) rather than the
 * {@code SCX_ENQ_CPU_SELECTED} that a later 6.12.y backport uses, since the emulated 6.12 core
 * never sets that flag; and {@code bpf_printk()} lines go to {@link #printk()} (a bounded buffer
 * the caller may read) instead of the trace pipe.
 *
 * <p>Memory consistency effects: none of its own beyond the kernel's locks and the maps'; the
 * counters are atomics; {@code core_sched_head_seqs}/{@code tail_seqs} are plain u64 arrays
 * written by any CPU without ordering in the original, here {@link AtomicLong}s for the same
 * racy-but-benign use; {@link #stats()} and {@link #statsLine()} read racily, as user space does.
 */
public final class ScxQmap612 implements SchedExtOps {
    static final long ONE_SEC_IN_NS = 1_000_000_000L;
    static final long SHARED_DSQ = 0;
    static final long HIGHPRI_DSQ = 1;
    /** The weight nice -20 maps to. */
    static final int HIGHPRI_WEIGHT = 8668;
    static final int NR_QUEUES = 5;
    static final int QUEUE_MAX_ENTRIES = 4096;
    static final int BPF_MAX_LOOPS = 8 * 1024 * 1024;
    /** struct cpu_ctx fields in {@link #cpuCtxStor}. */
    static final int CPU_CTX_DSP_IDX = 0;
    static final int CPU_CTX_DSP_CNT = 1;
    static final int CPU_CTX_AVG_WEIGHT = 2;
    static final int CPU_CTX_CPUPERF_TARGET = 3;
    private static final int CPU_CTX_NR_FIELDS = 4;
    private static final int PRINTK_MAX = 4096;
    private static final LongUnaryOperator DEC_TO_ZERO = c -> c == 0 ? 0 : c - 1;

    /** qidx_to_cpuperf_target[]: quarter steps of SCX_CPUPERF_ONE by FIFO index. */
    private static final int[] QIDX_TO_CPUPERF_TARGET = {
        SCX_CPUPERF_ONE * 0 / 4, SCX_CPUPERF_ONE * 1 / 4, SCX_CPUPERF_ONE * 2 / 4,
        SCX_CPUPERF_ONE * 3 / 4, SCX_CPUPERF_ONE * 4 / 4,
    };

    /** scx_qmap's command line (6.12), with its defaults; read once by the constructor. */
    public static class Options {
        /** {@code -s SLICE_US}, in ns. */
        public long sliceNs = SCX_SLICE_DFL;
        /** {@code -e COUNT}: scx_bpf_error() on the COUNT'th enqueue. u32. */
        public long errorAfter;
        /** {@code -t COUNT}: drop every COUNT'th enqueue of a user task. u32. */
        public long stallUserNth;
        /** {@code -T COUNT}: the same for kernel threads. u32. */
        public long stallKernelNth;
        /** {@code -l COUNT}: after COUNT dispatches, dispatch pid 2 forever. u32. */
        public long dspInfLoopAfter;
        /** {@code -b COUNT}: tasks per ops.dispatch() (0 means 1). u32. */
        public int dspBatch;
        /** {@code -P}: print SHARED_DSQ every second. */
        public boolean printSharedDsq;
        /** {@code -H}: boost nice -20 tasks through HIGHPRI_DSQ. */
        public boolean highpriBoosting;
        /** {@code -d TGID}: keep this thread group out of sched_ext (0: none). */
        public int disallowTgid;
        /** {@code -D LEN}: ops.exit_dump_len. */
        public int exitDumpLen;
        /** {@code -S}: no qmap lines in the debug dump. */
        public boolean suppressDump;
        /** {@code -p}: SCX_OPS_SWITCH_PARTIAL. */
        public boolean switchPartial;
        /** ops.timeout_ms (5000 in scx_qmap). */
        public int timeoutMs = 5000;
    }

    // --- rodata ---------------------------------------------------------------------------------
    private final long sliceNs;
    private final int stallUserNth;
    private final int stallKernelNth;
    private final long dspInfLoopAfter;
    private final int dspBatch;
    private final boolean highpriBoosting;
    private final boolean printSharedDsq;
    private final int disallowTgid;
    private final boolean suppressDump;
    private final long opsFlags;
    private final int opsTimeoutMs;
    private final int opsExitDumpLen;

    // --- bss and maps: any thread -----------------------------------------------------------------
    private final AtomicLong nrHighpriQueued = new AtomicLong();
    private final AtomicLong testErrorCnt;
    private final AtomicInteger userCnt = new AtomicInteger();
    private final AtomicInteger kernelCnt = new AtomicInteger();
    /** dispatch_highpri()'s static highpri_seq. */
    private final AtomicLong highpriSeq = new AtomicLong();
    private final QueueMap[] queueArr = new QueueMap[NR_QUEUES];
    private final QueueMap dumpStore = new QueueMap(QUEUE_MAX_ENTRIES);
    private final AtomicLong[] coreSchedHeadSeqs = new AtomicLong[NR_QUEUES];
    private final AtomicLong[] coreSchedTailSeqs = new AtomicLong[NR_QUEUES];
    private final TaskStorage<TaskCtx> taskCtxStor = new TaskStorage<>();
    /**
     * cpu_ctx_stor: dsp_idx, dsp_cnt, avg_weight, cpuperf_target per CPU; a row is written by its
     * own CPU (ops.dispatch(), ops.tick()) and read racily by the timer and the dump.
     */
    private final PerCpuArray cpuCtxStor = new PerCpuArray(Kernel.NR_CPUS_MAX, CPU_CTX_NR_FIELDS);
    private final BpfTimer monitorTimer = new BpfTimer("qmap_monitor", this::monitorTimerfn);

    private final AtomicLong nrEnqueued = new AtomicLong();
    private final AtomicLong nrDispatched = new AtomicLong();
    private final AtomicLong nrReenqueued = new AtomicLong();
    private final AtomicLong nrDequeued = new AtomicLong();
    private final AtomicLong nrDdspFromEnq = new AtomicLong();
    private final AtomicLong nrCoreSchedExeced = new AtomicLong();
    private final AtomicLong nrExpeditedLocal = new AtomicLong();
    private final AtomicLong nrExpeditedRemote = new AtomicLong();
    private final AtomicLong nrExpeditedLost = new AtomicLong();
    private final AtomicLong nrExpeditedFromTimer = new AtomicLong();
    /** cpuperf_min/avg/max and cpuperf_target_min/avg/max, written by the timer only. */
    private volatile int cpuperfMin;
    private volatile int cpuperfAvg;
    private volatile int cpuperfMax;
    private volatile int cpuperfTargetMin;
    private volatile int cpuperfTargetAvg;
    private volatile int cpuperfTargetMax;

    /** bpf_printk() output, oldest first; guarded by its own monitor. */
    private final List<String> printk = new ArrayList<>();
    private volatile ExitInfo uei;

    /**
     * struct task_ctx. {@code forceLocal} and {@code coreSchedSeq} follow the task's locks as in
     * the original (select_cpu under pi_lock, then enqueue under the rq lock); {@code highpri}
     * is set by ops.enqueue() and read by whichever CPU walks SHARED_DSQ after the task is on it
     * (the DSQ lock orders the two). The dump reads racily.
     */
    static final class TaskCtx {
        final Integer pid;
        volatile boolean forceLocal;
        volatile boolean highpri;
        volatile long coreSchedSeq;

        TaskCtx(Task p) {
            this.pid = p.pid;
        }
    }

    public ScxQmap612(Options o) {
        this.sliceNs = o.sliceNs;
        this.stallUserNth = (int) o.stallUserNth;
        this.stallKernelNth = (int) o.stallKernelNth;
        this.dspInfLoopAfter = o.dspInfLoopAfter & 0xffffffffL;
        this.dspBatch = o.dspBatch;
        this.highpriBoosting = o.highpriBoosting;
        this.printSharedDsq = o.printSharedDsq;
        this.disallowTgid = o.disallowTgid;
        this.suppressDump = o.suppressDump;
        this.testErrorCnt = new AtomicLong(o.errorAfter & 0xffffffffL);
        this.opsFlags = o.switchPartial ? SCX_OPS_SWITCH_PARTIAL : 0;
        this.opsTimeoutMs = o.timeoutMs;
        this.opsExitDumpLen = o.exitDumpLen;
        for (int i = 0; i < NR_QUEUES; i++) {
            queueArr[i] = new QueueMap(QUEUE_MAX_ENTRIES);
            coreSchedHeadSeqs[i] = new AtomicLong();
            coreSchedTailSeqs[i] = new AtomicLong();
        }
    }

    public ScxQmap612() {
        this(new Options());
    }

    /**
     * The {@code --scheduler qmap-6.12} factory: the run's scheduler options (the seed qmap's
     * flags that 6.12's scx_qmap also has) to {@link Options}; {@code applied} gets the settings.
     */
    public static SchedExtOps fromCli(Map<String, Object> given, Map<String, Object> applied, int cpus) {
        Options o = new Options();
        if (given.containsKey("--slice-us")) {
            o.sliceNs = (Long) given.get("--slice-us") * 1000L;
        }
        if (given.containsKey("--timeout-ms")) {
            o.timeoutMs = (Integer) given.get("--timeout-ms");
        }
        if (given.containsKey("--stall-user-nth")) {
            o.stallUserNth = (Long) given.get("--stall-user-nth");
        }
        if (given.containsKey("--stall-kernel-nth")) {
            o.stallKernelNth = (Long) given.get("--stall-kernel-nth");
        }
        if (given.containsKey("--dsp-batch")) {
            o.dspBatch = (Integer) given.get("--dsp-batch");
        }
        if (given.containsKey("--error-after")) {
            o.errorAfter = (Long) given.get("--error-after");
        }
        if (given.containsKey("--dsp-inf-loop-after")) {
            o.dspInfLoopAfter = (Long) given.get("--dsp-inf-loop-after");
        }
        applied.put("slice_ns", o.sliceNs);
        applied.put("stall_user_nth", o.stallUserNth);
        applied.put("stall_kernel_nth", o.stallKernelNth);
        applied.put("dsp_inf_loop_after", o.dspInfLoopAfter);
        applied.put("dsp_batch", (long) o.dspBatch);
        applied.put("error_after", o.errorAfter);
        applied.put("highpri_boosting", o.highpriBoosting);
        applied.put("timeout_ms", (long) o.timeoutMs);
        return new ScxQmap612(o);
    }

    @Override
    public String name() {
        return "qmap";
    }

    @Override
    public long flags() {
        return opsFlags;
    }

    @Override
    public int timeoutMs() {
        return opsTimeoutMs;
    }

    @Override
    public int exitDumpLen() {
        return opsExitDumpLen;
    }

    /** The CPU @p may go to right now without waiting: its own if idle (or its only), else any idle one. */
    private static int pickDirectDispatchCpu(Task p, int prevCpu) {
        if (p.nrCpusAllowed() == 1 || scx_bpf_test_and_clear_cpu_idle(prevCpu)) {
            return prevCpu;
        }
        int cpu = scx_bpf_pick_idle_cpu(p.cpusPtr(), 0);
        return cpu >= 0 ? cpu : -1;
    }

    private TaskCtx lookupTaskCtx(Task p) {
        TaskCtx tctx = taskCtxStor.get(p);
        if (tctx == null) {
            scx_bpf_error("task_ctx lookup failed");
        }
        return tctx;
    }

    /** qmap_select_cpu() */
    @Override
    public int selectCpu(Task p, int prevCpu, long wakeFlags) {
        TaskCtx tctx = lookupTaskCtx(p);
        if (tctx == null) {
            return -ESRCH;
        }
        int cpu = pickDirectDispatchCpu(p, prevCpu);
        if (cpu >= 0) {
            tctx.forceLocal = true;
            return cpu;
        }
        return prevCpu;
    }

    static int weightToIdx(int weight) {
        if (weight <= 25) {
            return 0;
        } else if (weight <= 50) {
            return 1;
        } else if (weight < 200) {
            return 2;
        } else if (weight < 400) {
            return 3;
        } else {
            return 4;
        }
    }

    /** qmap_enqueue() */
    @Override
    public void enqueue(Task p, long enqFlags) {
        int idx = weightToIdx(p.scx.weight);
        if ((p.flags() & Task.PF_KTHREAD) != 0) {
            if (stallKernelNth != 0 && Integer.remainderUnsigned(kernelCnt.incrementAndGet(), stallKernelNth) == 0) {
                return;
            }
        } else {
            if (stallUserNth != 0 && Integer.remainderUnsigned(userCnt.incrementAndGet(), stallUserNth) == 0) {
                return;
            }
        }
        if (testErrorCnt.get() != 0 && testErrorCnt.getAndUpdate(DEC_TO_ZERO) == 1) {
            scx_bpf_error("test triggering error");
        }
        TaskCtx tctx = lookupTaskCtx(p);
        if (tctx == null) {
            return;
        }
        tctx.coreSchedSeq = coreSchedTailSeqs[idx].getAndIncrement();

        if (tctx.forceLocal) {
            tctx.forceLocal = false;
            scx_bpf_dispatch(p, SCX_DSQ_LOCAL, sliceNs, enqFlags);
            return;
        }

        // no ops.select_cpu() before this enqueue: look for an idle CPU here
        int cpu;
        if ((enqFlags & SCX_ENQ_WAKEUP) == 0 && (cpu = pickDirectDispatchCpu(p, scx_bpf_task_cpu(p))) >= 0) {
            nrDdspFromEnq.incrementAndGet();
            scx_bpf_dispatch(p, SCX_DSQ_LOCAL_ON | cpu, sliceNs, enqFlags);
            return;
        }

        // back from cpu_release(): to the shared DSQ, and wake an idle CPU to take it
        if ((enqFlags & SCX_ENQ_REENQ) != 0) {
            scx_bpf_dispatch(p, SHARED_DSQ, 0, enqFlags);
            int idle = scx_bpf_pick_idle_cpu(p.cpusPtr(), 0);
            if (idle >= 0) {
                scx_bpf_kick_cpu(idle, SCX_KICK_IDLE);
            }
            return;
        }

        if (queueArr[idx].pushBoxed(tctx.pid) != 0) {
            scx_bpf_dispatch(p, SHARED_DSQ, sliceNs, enqFlags);
            return;
        }
        if (highpriBoosting && p.scx.weight >= HIGHPRI_WEIGHT) {
            tctx.highpri = true;
            nrHighpriQueued.incrementAndGet();
        }
        nrEnqueued.incrementAndGet();
    }

    /** qmap_dequeue(): counts; a popped pid of a dequeued task is dropped by the core. */
    @Override
    public void dequeue(Task p, long deqFlags) {
        nrDequeued.incrementAndGet();
        if ((deqFlags & SCX_DEQ_CORE_SCHED_EXEC) != 0) {
            nrCoreSchedExeced.incrementAndGet();
        }
    }

    private void updateCoreSchedHeadSeq(Task p) {
        int idx = weightToIdx(p.scx.weight);
        TaskCtx tctx = lookupTaskCtx(p);
        if (tctx != null) {
            coreSchedHeadSeqs[idx].set(tctx.coreSchedSeq);
        }
    }

    /**
     * dispatch_highpri(): first the marked tasks on SHARED_DSQ go to HIGHPRI_DSQ in the order
     * met; then HIGHPRI_DSQ's tasks go, with SCX_ENQ_PREEMPT, to this CPU if they may run here,
     * else to any CPU they may use. True once a task was moved to this CPU.
     */
    private boolean dispatchHighpri(boolean fromTimer) {
        int thisCpu = bpf_get_smp_processor_id();

        DsqIter it = bpf_for_each_scx_dsq(SHARED_DSQ, 0);
        for (Task p : it) {
            TaskCtx tctx = lookupTaskCtx(p);
            if (tctx == null) {
                return false;
            }
            if (tctx.highpri) {
                scx_bpf_dispatch_from_dsq_set_slice(it, sliceNs * 2);
                scx_bpf_dispatch_from_dsq_set_vtime(it, highpriSeq.getAndIncrement());
                scx_bpf_dispatch_vtime_from_dsq(it, p, HIGHPRI_DSQ, 0);
            }
        }

        DsqIter hi = bpf_for_each_scx_dsq(HIGHPRI_DSQ, 0);
        for (Task p : hi) {
            boolean dispatched = false;
            int cpu;
            if (thisCpu >= 0 && p.cpusPtr().test(thisCpu)) {
                cpu = thisCpu;
            } else {
                cpu = scx_bpf_pick_any_cpu(p.cpusPtr(), 0);
            }
            if (scx_bpf_dispatch_from_dsq(hi, p, SCX_DSQ_LOCAL_ON | cpu, SCX_ENQ_PREEMPT)) {
                if (cpu == thisCpu) {
                    dispatched = true;
                    nrExpeditedLocal.incrementAndGet();
                } else {
                    nrExpeditedRemote.incrementAndGet();
                }
                if (fromTimer) {
                    nrExpeditedFromTimer.incrementAndGet();
                }
            } else {
                nrExpeditedLost.incrementAndGet();
            }
            if (dispatched) {
                return true;
            }
        }
        return false;
    }

    /** qmap_dispatch() */
    @Override
    public void dispatch(int cpu, Task prev) {
        long batch = dspBatch != 0 ? Integer.toUnsignedLong(dspBatch) : 1;

        if (dispatchHighpri(false)) {
            return;
        }
        if (nrHighpriQueued.get() == 0 && scx_bpf_consume(SHARED_DSQ)) {
            return;
        }
        if (dspInfLoopAfter != 0 && nrDispatched.get() > dspInfLoopAfter) {
            Task p = bpf_task_from_pid(2);
            if (p != null) {
                scx_bpf_dispatch(p, SCX_DSQ_LOCAL, sliceNs, 0);
                bpf_task_release(p);
                return;
            }
        }

        PerCpuArray cpuc = cpuCtxStor;
        for (int i = 0; i < NR_QUEUES; i++) {
            if (cpuc.get(cpu, CPU_CTX_DSP_CNT) == 0) {
                long dspIdx = (cpuc.get(cpu, CPU_CTX_DSP_IDX) + 1) % NR_QUEUES;
                cpuc.setOpaque(cpu, CPU_CTX_DSP_IDX, dspIdx);
                cpuc.setOpaque(cpu, CPU_CTX_DSP_CNT, 1L << dspIdx);
            }
            QueueMap fifo = queueArr[(int) cpuc.get(cpu, CPU_CTX_DSP_IDX)];
            for (int loop = 0; loop < BPF_MAX_LOOPS; loop++) {
                long pid = fifo.pop();
                if (pid < 0) {
                    break;
                }
                Task p = taskCtxStor.taskOf((int) pid);
                if (p == null) {
                    continue;
                }
                TaskCtx tctx = lookupTaskCtx(p);
                if (tctx == null) {
                    return;
                }
                if (tctx.highpri) {
                    nrHighpriQueued.decrementAndGet();
                }
                updateCoreSchedHeadSeq(p);
                nrDispatched.incrementAndGet();
                scx_bpf_dispatch(p, SHARED_DSQ, sliceNs, 0);
                batch--;
                long dspCnt = cpuc.get(cpu, CPU_CTX_DSP_CNT) - 1;
                cpuc.setOpaque(cpu, CPU_CTX_DSP_CNT, dspCnt);
                if (batch == 0 || scx_bpf_dispatch_nr_slots() == 0) {
                    if (dispatchHighpri(false)) {
                        return;
                    }
                    scx_bpf_consume(SHARED_DSQ);
                    return;
                }
                if (dspCnt == 0) {
                    break;
                }
            }
            cpuc.setOpaque(cpu, CPU_CTX_DSP_CNT, 0);
        }

        // prev keeps running: it goes to the back of its FIFO's core-sched order
        if (prev != null) {
            TaskCtx tctx = taskCtxStor.get(prev);
            if (tctx == null) {
                scx_bpf_error("task_ctx lookup failed");
                return;
            }
            tctx.coreSchedSeq = coreSchedTailSeqs[weightToIdx(prev.scx.weight)].getAndIncrement();
        }
    }

    /** qmap_tick(): this CPU's performance target follows the weights it runs. */
    @Override
    public void tick(Task p) {
        int cpu = scx_bpf_task_cpu(p);
        long avg = cpuCtxStor.get(cpu, CPU_CTX_AVG_WEIGHT) * 3 / 4 + p.scx.weight / 4;
        cpuCtxStor.setOpaque(cpu, CPU_CTX_AVG_WEIGHT, avg);
        int target = QIDX_TO_CPUPERF_TARGET[weightToIdx((int) avg)];
        cpuCtxStor.setOpaque(cpu, CPU_CTX_CPUPERF_TARGET, target);
        scx_bpf_cpuperf_set(cpu, target);
    }

    /** task_qdist(): how far behind its FIFO's head a task is, scaled by the FIFO's share. */
    private long taskQdist(Task p) {
        int idx = weightToIdx(p.scx.weight);
        TaskCtx tctx = taskCtxStor.get(p);
        if (tctx == null) {
            scx_bpf_error("task_ctx lookup failed");
            return 0;
        }
        long qdist = tctx.coreSchedSeq - coreSchedHeadSeqs[idx].get();
        return qdist >= 0 ? qdist << (4 - idx) : qdist << idx;
    }

    /** qmap_core_sched_before() */
    @Override
    public boolean coreSchedBefore(Task a, Task b) {
        return taskQdist(a) < taskQdist(b);
    }

    /** qmap_cpu_release() */
    @Override
    public void cpuRelease(int cpu, CpuReleaseArgs args) {
        int cnt = scx_bpf_reenqueue_local();
        if (cnt != 0) {
            nrReenqueued.addAndGet(Integer.toUnsignedLong(cnt));
        }
    }

    /** qmap_init_task() */
    @Override
    public int initTask(Task p, InitTaskArgs args) {
        if (disallowTgid != 0 && p.pid == disallowTgid) {
            p.scx.disallow = true;
        }
        return taskCtxStor.getOrCreate(p, TaskCtx::new) != null ? 0 : -ENOMEM;
    }

    /** qmap_dump(): prints the five FIFOs and puts every pid back. */
    @Override
    public void dump(DumpCtx dctx) {
        if (suppressDump) {
            return;
        }
        for (int i = 0; i < NR_QUEUES; i++) {
            QueueMap fifo = queueArr[i];
            scx_bpf_dump("QMAP FIFO[%d]:", i);
            for (int n = 0; n < QUEUE_MAX_ENTRIES; n++) {
                long pid = fifo.pop();
                if (pid < 0) {
                    break;
                }
                dumpStore.push((int) pid);
                scx_bpf_dump(" %d", pid);
            }
            for (int n = 0; n < QUEUE_MAX_ENTRIES; n++) {
                long pid = dumpStore.pop();
                if (pid < 0) {
                    break;
                }
                fifo.push((int) pid);
            }
            scx_bpf_dump("\n");
        }
    }

    /** qmap_dump_cpu() */
    @Override
    public void dumpCpu(DumpCtx dctx, int cpu, boolean idle) {
        if (suppressDump || idle) {
            return;
        }
        scx_bpf_dump("QMAP: dsp_idx=%llu dsp_cnt=%llu avg_weight=%u cpuperf_target=%u",
                cpuCtxStor.getOpaque(cpu, CPU_CTX_DSP_IDX), cpuCtxStor.getOpaque(cpu, CPU_CTX_DSP_CNT),
                cpuCtxStor.getOpaque(cpu, CPU_CTX_AVG_WEIGHT), cpuCtxStor.getOpaque(cpu, CPU_CTX_CPUPERF_TARGET));
    }

    /** qmap_dump_task() */
    @Override
    public void dumpTask(DumpCtx dctx, Task p) {
        if (suppressDump) {
            return;
        }
        TaskCtx taskc = taskCtxStor.get(p);
        if (taskc == null) {
            return;
        }
        scx_bpf_dump("QMAP: force_local=%d core_sched_seq=%llu", taskc.forceLocal ? 1 : 0, taskc.coreSchedSeq);
    }

    /** print_cpus(): one character per CPU ('O' online, 'X' possible only, blank neither), '|' every 8. */
    private void printCpus() {
        CpuMask possible = scx_bpf_get_possible_cpumask();
        CpuMask online = scx_bpf_get_online_cpumask();
        StringBuilder buf = new StringBuilder();
        int n = scx_bpf_nr_cpu_ids();
        for (int cpu = 0; cpu < n && buf.length() < 127; cpu++) {
            if (online.test(cpu)) {
                buf.append('O');
            } else if (possible.test(cpu)) {
                buf.append('X');
            } else {
                buf.append(' ');
            }
            if ((cpu & 7) == 7 && buf.length() < 127) {
                buf.append('|');
            }
        }
        scx_bpf_put_cpumask(online);
        scx_bpf_put_cpumask(possible);
        printk("CPUS: |" + buf);
    }

    /** qmap_cpu_online() */
    @Override
    public void cpuOnline(int cpu) {
        printk("CPU " + cpu + " coming online");
        printCpus();
    }

    /** qmap_cpu_offline() */
    @Override
    public void cpuOffline(int cpu) {
        printk("CPU " + cpu + " going offline");
        printCpus();
    }

    /** monitor_cpuperf(): min/avg/max of the current levels and of the targets, online CPUs. */
    private void monitorCpuperf() {
        int nrCpuIds = scx_bpf_nr_cpu_ids();
        CpuMask online = scx_bpf_get_online_cpumask();
        long capSum = 0;
        long curSum = 0;
        long curMin = SCX_CPUPERF_ONE;
        long curMax = 0;
        long targetSum = 0;
        long targetMin = SCX_CPUPERF_ONE;
        long targetMax = 0;
        int nrOnline = 0;
        for (int i = 0; i < nrCpuIds; i++) {
            if (!online.test(i)) {
                continue;
            }
            nrOnline++;
            long cap = Integer.toUnsignedLong(scx_bpf_cpuperf_cap(i));
            long cur = Integer.toUnsignedLong(scx_bpf_cpuperf_cur(i));
            curMin = Math.min(cur, curMin);
            curMax = Math.max(cur, curMax);
            curSum += cur * cap / SCX_CPUPERF_ONE;
            capSum += cap;
            long target = cpuCtxStor.getOpaque(i, CPU_CTX_CPUPERF_TARGET);
            targetSum += target;
            targetMin = Math.min(target, targetMin);
            targetMax = Math.max(target, targetMax);
        }
        if (nrOnline > 0) {
            cpuperfMin = (int) curMin;
            cpuperfAvg = (int) (curSum * SCX_CPUPERF_ONE / capSum);
            cpuperfMax = (int) curMax;
            cpuperfTargetMin = (int) targetMin;
            cpuperfTargetAvg = (int) (targetSum / nrOnline);
            cpuperfTargetMax = (int) targetMax;
        }
        scx_bpf_put_cpumask(online);
    }

    /** dump_shared_dsq(): SHARED_DSQ, last to first. */
    private void dumpSharedDsq() {
        int nr = scx_bpf_dsq_nr_queued(SHARED_DSQ);
        if (nr == 0) {
            return;
        }
        printk("Dumping " + nr + " tasks in SHARED_DSQ in reverse order");
        for (Task p : bpf_for_each_scx_dsq(SHARED_DSQ, SCX_DSQ_ITER_REV)) {
            printk(p.comm + "[" + p.pid + "]");
        }
    }

    /** monitor_timerfn(): once a second, unlocked. */
    private void monitorTimerfn() {
        dispatchHighpri(true);
        monitorCpuperf();
        if (printSharedDsq) {
            dumpSharedDsq();
        }
        bpf_timer_start(monitorTimer, ONE_SEC_IN_NS, 0);
    }

    /** qmap_init(): sleepable. */
    @Override
    public int init() {
        printCpus();
        int ret = scx_bpf_create_dsq(SHARED_DSQ, -1);
        if (ret != 0) {
            return ret;
        }
        ret = scx_bpf_create_dsq(HIGHPRI_DSQ, -1);
        if (ret != 0) {
            return ret;
        }
        return bpf_timer_start(monitorTimer, ONE_SEC_IN_NS, 0);
    }

    /** qmap_exit() */
    @Override
    public void exit(ExitInfo info) {
        uei = info;
    }

    private void printk(String line) {
        synchronized (printk) {
            if (printk.size() >= PRINTK_MAX) {
                printk.remove(0);
            }
            printk.add(line);
        }
    }

    // --- the user-space half -------------------------------------------------------------------------

    /** The bpf_printk() lines so far (the last {@value #PRINTK_MAX}). */
    public List<String> printk() {
        synchronized (printk) {
            return new ArrayList<>(printk);
        }
    }

    /** UEI_EXITED(): what ops.exit() recorded, or null while running. */
    public ExitInfo exitInfo() {
        return uei;
    }

    @Override
    public Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("nr_enqueued", nrEnqueued.get());
        m.put("nr_dispatched", nrDispatched.get());
        m.put("nr_reenqueued", nrReenqueued.get());
        m.put("nr_dequeued", nrDequeued.get());
        m.put("nr_core_sched_execed", nrCoreSchedExeced.get());
        m.put("nr_ddsp_from_enq", nrDdspFromEnq.get());
        m.put("nr_expedited_local", nrExpeditedLocal.get());
        m.put("nr_expedited_remote", nrExpeditedRemote.get());
        m.put("nr_expedited_from_timer", nrExpeditedFromTimer.get());
        m.put("nr_expedited_lost", nrExpeditedLost.get());
        m.put("nr_highpri_queued", nrHighpriQueued.get());
        m.put("cpuperf_min", (long) cpuperfMin);
        m.put("cpuperf_avg", (long) cpuperfAvg);
        m.put("cpuperf_max", (long) cpuperfMax);
        m.put("cpuperf_target_min", (long) cpuperfTargetMin);
        m.put("cpuperf_target_avg", (long) cpuperfTargetAvg);
        m.put("cpuperf_target_max", (long) cpuperfTargetMax);
        return Collections.unmodifiableMap(m);
    }

    /** scx_qmap's once-a-second lines (6.12's three). */
    @Override
    public String statsLine() {
        long enq = nrEnqueued.get();
        long dsp = nrDispatched.get();
        return "stats  : enq=" + enq + " dsp=" + dsp + " delta=" + (enq - dsp) + " reenq=" + nrReenqueued.get()
                + " deq=" + nrDequeued.get() + " core=" + nrCoreSchedExeced.get() + " enq_ddsp="
                + nrDdspFromEnq.get() + "\n         exp_local=" + nrExpeditedLocal.get() + " exp_remote="
                + nrExpeditedRemote.get() + " exp_timer=" + nrExpeditedFromTimer.get() + " exp_lost="
                + nrExpeditedLost.get() + "\ncpuperf: cur min/avg/max=" + cpuperfMin + "/" + cpuperfAvg + "/"
                + cpuperfMax + " target min/avg/max=" + cpuperfTargetMin + "/" + cpuperfTargetAvg + "/"
                + cpuperfTargetMax;
    }
}
