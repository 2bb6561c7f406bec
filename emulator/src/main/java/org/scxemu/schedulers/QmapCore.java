// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.schedulers;

import static org.scxemu.scx.Scx.*;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongUnaryOperator;
import org.scxemu.kernel.ExitInfo;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.Task;
import org.scxemu.scx.SchedExtOps;
import org.scxemu.scx.maps.PerCpuArray;
import org.scxemu.scx.maps.QueueMap;
import org.scxemu.scx.maps.TaskStorage;

/**
 * scx_qmap: a five-level FIFO queue scheduler (port of {@code tools/sched_ext/scx_qmap.bpf.c}
 * and {@code scx_qmap.c} as of the seed, v7's "sched_ext: Implement
 * sched_ext_ops.cpu_acquire/release()"). This class is the whole scheduler except
 * {@code ops.cpu_release()}; {@link ScxQmap} adds that op, {@link ScxQmapNoCpuRelease} leaves it
 * absent, and {@link ScxQmap#create} picks one from {@link ScxQmap.Options#cpuRelease}. (Op
 * presence is decided per class, as the struct_ops loader decides it per program.)
 *
 * <p>Five FIFOs ({@link QueueMap}s of 4096 pids, the BPF side's {@code queue0..4}) hold queued
 * tasks. {@code weight_to_idx()} files a task by its weight: the heavier, the higher the index.
 * Each CPU's {@code ops.dispatch()} walks the FIFOs round-robin with a per-CPU cursor and takes up
 * to {@code 1 << idx} tasks from FIFO {@code idx} before moving on, so each FIFO gets twice the
 * turns of the one below it. Popped tasks go to the user DSQ {@code SHARED_DSQ}, which every CPU
 * consumes.
 *
 * <p>It demonstrates:
 * <ul>
 *   <li>queueing on the BPF side by pid ({@code bpf_map_push_elem()} / {@code pop_elem()}), with
 *       no removal: {@code ops.dequeue()} only counts, and the core drops the stale dispatch of a
 *       task that was dequeued while its pid sat in a FIFO;
 *   <li>per-task storage created in the sleepable {@code ops.init_task()}
 *       ({@code task_ctx.force_local}: {@code ops.select_cpu()} claimed an idle CPU, so the
 *       following {@code ops.enqueue()} dispatches straight to {@code SCX_DSQ_LOCAL});
 *   <li>{@code ops.cpu_release()} (the seed): when a higher class takes a CPU,
 *       {@code scx_bpf_reenqueue_local()} sends the tasks stranded on its local DSQ back through
 *       {@code ops.enqueue()} with {@code SCX_ENQ_REENQ}, which puts them on {@code SHARED_DSQ}
 *       and kicks an idle CPU with {@code SCX_KICK_IDLE} to pick them up;
 *   <li>fault injection to exercise the core: {@code -t}/{@code -T} silently drop every Nth
 *       user/kernel task (the watchdog must eject with {@code SCX_EXIT_ERROR_STALL}), {@code -l}
 *       makes {@code ops.dispatch()} dispatch pid 2 forever (the core's dispatch-loop guard must
 *       cope), {@code -e} calls {@code scx_bpf_error()} after N enqueues;
 *   <li>the debug dump ops ({@code dump}, {@code dump_cpu}, {@code dump_task}) and
 *       {@code SCX_OPS_ENQ_LAST}: the last runnable task of a CPU comes to {@code ops.enqueue()}
 *       with {@code SCX_ENQ_LAST} and is kept local.
 * </ul>
 * It is meant for demonstrating and testing sched_ext, not for real workloads.
 *
 * <p>Counters ({@link #stats()}), all {@code __sync_fetch_and_add()}ed on the BPF side:
 * {@code nr_enqueued} (pids pushed onto a FIFO), {@code nr_dispatched} (pids popped whose task
 * still exists, dispatched to {@code SHARED_DSQ}), {@code nr_reenqueued} (tasks
 * {@code scx_bpf_reenqueue_local()} re-enqueued), {@code nr_dequeued} ({@code ops.dequeue()}
 * calls). The user-space half prints {@link #statsLine()} once a second:
 * {@code "stats  : enq=%lu dsp=%lu delta=%ld reenq=%lu deq=%lu"} with {@code delta = enq - dsp}.
 *
 * <p>Left out, with the reason:
 * <ul>
 *   <li>later than the seed, needing kernel features this v7 emulation lacks:
 *       {@code core_sched_before} and its queue sequence numbers (no core scheduling), the
 *       {@code HIGHPRI_DSQ} boosting of {@code -H} (the DSQ iterator and
 *       {@code scx_bpf_dispatch_from_dsq()}), {@code -P}'s printing of {@code SHARED_DSQ} (the DSQ
 *       iterator: the option is accepted and ignored), the cpuperf {@code ops.tick()} and the
 *       one-second monitor timer (cpuperf kfuncs, BPF timers), and direct dispatch to
 *       {@code SCX_DSQ_LOCAL_ON | cpu} from {@code ops.enqueue()} ({@code enq_ddsp}), which v7
 *       rejects. {@code SCX_OPS_ENQ_LAST} and its {@code SCX_ENQ_LAST} branch, from the same
 *       series' core-sched patch, are kept;
 *   <li>{@code cpu_online}/{@code cpu_offline} and the CPU map they print: {@code bpf_printk()}
 *       and the possible/online cpumask kfuncs are not part of the scheduler surface;
 *   <li>{@code -d PID} ({@code disallow_tgid}) and {@code -v} (libbpf verbosity).
 * </ul>
 * {@code bpf_task_from_pid()} is not part of {@link org.scxemu.scx.Scx}; {@link #bpfTaskFromPid}
 * stands in for it through the task storage, which every task that can be queued has.
 *
 * <p>Memory consistency effects: none of its own beyond the kernel's locks and the maps' (a pid
 * pushed by one CPU's ops.enqueue() is popped with everything before the push visible);
 * {@link #stats()}, {@link #statsLine()} and {@link #queuedPids()} read racily, as user space
 * reads the BPF side's variables.
 */
public abstract sealed class QmapCore implements SchedExtOps permits ScxQmap, ScxQmapNoCpuRelease {
    static final long SHARED_DSQ = 0;
    static final int NR_QUEUES = 5;
    static final int QUEUE_MAX_ENTRIES = 4096;
    /** bpf_repeat()'s bound, BPF_MAX_LOOPS. */
    static final int BPF_MAX_LOOPS = 8 * 1024 * 1024;
    /** Keys of struct cpu_ctx's fields in {@link #cpuCtxStor}. */
    static final int CPU_CTX_DSP_IDX = 0;
    static final int CPU_CTX_DSP_CNT = 1;
    private static final int CPU_CTX_NR_FIELDS = 2;

    private static final long U32_MAX = 0xffffffffL;
    /** test_error_cnt && !--test_error_cnt, done as one atomic step that never goes below 0. */
    private static final LongUnaryOperator DEC_TO_ZERO = c -> c == 0 ? 0 : c - 1;

    // --- rodata (const volatile): fixed at load, read by every thread ---------------------------
    private final long sliceNs;
    /** u32 */
    private final int stallUserNth;
    /** u32 */
    private final int stallKernelNth;
    /** u32, zero-extended */
    private final long dspInfLoopAfter;
    /** u32 */
    private final int dspBatch;
    private final boolean suppressDump;
    /** struct_ops fields set by the user-space half: flags, timeout_ms, exit_dump_len. */
    private final long opsFlags;
    private final int opsTimeoutMs;
    private final int opsExitDumpLen;

    // --- bss and maps: any thread --------------------------------------------------------------
    /** u32 test_error_cnt (-e): counted down atomically by ops.enqueue(). */
    private final AtomicLong testErrorCnt;
    /** static u32 user_cnt, kernel_cnt of qmap_enqueue(). */
    private final AtomicInteger userCnt = new AtomicInteger();
    private final AtomicInteger kernelCnt = new AtomicInteger();
    /** queue_arr: queue0 .. queue4. */
    private final QueueMap[] queueArr = new QueueMap[NR_QUEUES];
    /** task_ctx_stor */
    private final TaskStorage<TaskCtx> taskCtxStor = new TaskStorage<>();
    /**
     * cpu_ctx_stor: struct cpu_ctx { u64 dsp_idx; u64 dsp_cnt; } per CPU, sized by the possible
     * CPUs as the kernel sizes per-CPU maps. Row {@code cpu} is written only by ops.dispatch() on
     * that CPU and read racily by ops.dump_cpu().
     */
    private final PerCpuArray cpuCtxStor = new PerCpuArray(Kernel.NR_CPUS_MAX, CPU_CTX_NR_FIELDS);

    // --- statistics (the nr_* counters): any thread ---------------------------------------------
    private final AtomicLong nrEnqueued = new AtomicLong();
    private final AtomicLong nrDispatched = new AtomicLong();
    private final AtomicLong nrReenqueued = new AtomicLong();
    private final AtomicLong nrDequeued = new AtomicLong();

    /** UEI_DEFINE(uei): written by ops.exit(), read by the user-space half. */
    private volatile ExitInfo uei;

    /**
     * struct task_ctx. {@code forceLocal} is guarded by the kernel's locks on the task, as the
     * BPF original relies on: ops.select_cpu() sets it under the task's pi_lock, the following
     * ops.enqueue() reads and clears it under the task's rq lock, and the wakeup path orders the
     * two. ops.dump_task() reads it racily (racy but benign: display only).
     */
    static final class TaskCtx {
        /** The task's pid, boxed once so that pushing it onto a FIFO allocates nothing. */
        final Integer pid;
        /** Dispatch directly to local_dsq. */
        boolean forceLocal;

        TaskCtx(Task p) {
            this.pid = p.pid;
        }
    }

    QmapCore(ScxQmap.Options o) {
        this.sliceNs = o.sliceNs;
        this.stallUserNth = u32("stallUserNth", o.stallUserNth);
        this.stallKernelNth = u32("stallKernelNth", o.stallKernelNth);
        this.dspInfLoopAfter = Integer.toUnsignedLong(u32("dspInfLoopAfter", o.dspInfLoopAfter));
        this.dspBatch = u32("dspBatch", o.dspBatch);
        this.suppressDump = o.suppressDump;
        this.testErrorCnt = new AtomicLong(Integer.toUnsignedLong(u32("errorAfter", o.errorAfter)));
        this.opsFlags = SCX_OPS_ENQ_LAST | (o.switchPartial ? SCX_OPS_SWITCH_PARTIAL : 0);
        this.opsTimeoutMs = o.timeoutMs;
        this.opsExitDumpLen = o.exitDumpLen;
        for (int i = 0; i < NR_QUEUES; i++) {
            queueArr[i] = new QueueMap(QUEUE_MAX_ENTRIES);
        }
    }

    private static int u32(String what, long v) {
        if (v < 0 || v > U32_MAX) {
            throw new IllegalArgumentException(what + " must fit in a u32, got " + v);
        }
        return (int) v;
    }

    // --- struct_ops fields ---------------------------------------------------------------------------

    @Override
    public final String name() {
        return "qmap";
    }

    @Override
    public final long flags() {
        return opsFlags;
    }

    @Override
    public final int timeoutMs() {
        return opsTimeoutMs;
    }

    @Override
    public final int exitDumpLen() {
        return opsExitDumpLen;
    }

    // --- ops --------------------------------------------------------------------------------------

    /** qmap_select_cpu() */
    @Override
    public final int selectCpu(Task p, int prevCpu, long wakeFlags) {
        TaskCtx tctx = taskCtxStor.get(p);
        if (tctx == null) {
            scx_bpf_error("task_ctx lookup failed");
            return -ESRCH;
        }
        if (p.nrCpusAllowed() == 1 || scx_bpf_test_and_clear_cpu_idle(prevCpu)) {
            tctx.forceLocal = true;
            return prevCpu;
        }
        int cpu = scx_bpf_pick_idle_cpu(p.cpusPtr(), 0);
        if (cpu >= 0) {
            return cpu;
        }
        return prevCpu;
    }

    /** weight_to_idx(): a coarse map of the compound weight to a FIFO. */
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
    public final void enqueue(Task p, long enqFlags) {
        int idx = weightToIdx(p.scx.weight);

        // stall injection: the task is silently dropped and never runs again
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

        TaskCtx tctx = taskCtxStor.get(p);
        if (tctx == null) {
            scx_bpf_error("task_ctx lookup failed");
            return;
        }

        // select_cpu() asked for a local enqueue, or this is the CPU's last runnable task
        if (tctx.forceLocal || (enqFlags & SCX_ENQ_LAST) != 0) {
            tctx.forceLocal = false;
            scx_bpf_dispatch(p, SCX_DSQ_LOCAL, sliceNs, enqFlags);
            return;
        }

        // Re-enqueued by cpu_release() because a higher class took the CPU: queue the task where
        // any CPU can take it and wake an idle CPU to do so.
        if ((enqFlags & SCX_ENQ_REENQ) != 0) {
            scx_bpf_dispatch(p, SHARED_DSQ, 0, enqFlags);
            int cpu = scx_bpf_pick_idle_cpu(p.cpusPtr(), 0);
            if (cpu >= 0) {
                scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
            }
            return;
        }

        // FIFO by weight; on overflow fall back to the shared DSQ
        QueueMap ring = queueArr[idx];
        if (ring.pushBoxed(tctx.pid) != 0) {
            scx_bpf_dispatch(p, SHARED_DSQ, sliceNs, enqFlags);
            return;
        }

        nrEnqueued.incrementAndGet();
    }

    /**
     * qmap_dequeue(): a queue map cannot remove an element and the core ignores a stale
     * dispatch, so dequeue only counts.
     */
    @Override
    public final void dequeue(Task p, long deqFlags) {
        nrDequeued.incrementAndGet();
    }

    /** qmap_dispatch() */
    @Override
    public final void dispatch(int cpu, Task prev) {
        long batch = dspBatch != 0 ? Integer.toUnsignedLong(dspBatch) : 1;

        if (scx_bpf_consume(SHARED_DSQ)) {
            return;
        }

        if (dspInfLoopAfter != 0 && nrDispatched.get() > dspInfLoopAfter) {
            // Keep dispatching pid 2 (kthreadd on a real system, rarely runnable), forcing the
            // core to call ops.dispatch() again and again.
            Task p = bpfTaskFromPid(2);
            if (p != null) {
                scx_bpf_dispatch(p, SCX_DSQ_LOCAL, sliceNs, 0);
                return;
            }
        }

        // cpuc = this CPU's cpu_ctx; ops.dispatch() runs on @cpu
        PerCpuArray cpuc = cpuCtxStor;
        for (int i = 0; i < NR_QUEUES; i++) {
            // advance the cursor to the next FIFO when this one's turn is used up
            if (cpuc.get(cpu, CPU_CTX_DSP_CNT) == 0) {
                long dspIdx = (cpuc.get(cpu, CPU_CTX_DSP_IDX) + 1) % NR_QUEUES;
                cpuc.setOpaque(cpu, CPU_CTX_DSP_IDX, dspIdx);
                cpuc.setOpaque(cpu, CPU_CTX_DSP_CNT, 1L << dspIdx);
            }

            QueueMap fifo = queueArr[(int) cpuc.get(cpu, CPU_CTX_DSP_IDX)];

            // dispatch from this FIFO, or move on
            for (int loop = 0; loop < BPF_MAX_LOOPS; loop++) {
                long pid = fifo.pop();
                if (pid < 0) {
                    break;
                }
                Task p = bpfTaskFromPid((int) pid);
                if (p == null) {
                    continue;
                }
                nrDispatched.incrementAndGet();
                scx_bpf_dispatch(p, SHARED_DSQ, sliceNs, 0);
                batch--;
                long dspCnt = cpuc.get(cpu, CPU_CTX_DSP_CNT) - 1;
                cpuc.setOpaque(cpu, CPU_CTX_DSP_CNT, dspCnt);
                if (batch == 0 || scx_bpf_dispatch_nr_slots() == 0) {
                    scx_bpf_consume(SHARED_DSQ);
                    return;
                }
                if (dspCnt == 0) {
                    break;
                }
            }

            cpuc.setOpaque(cpu, CPU_CTX_DSP_CNT, 0);
        }
    }

    /**
     * qmap_cpu_release(): the CPU went to a higher class and no sched_ext task will run on it
     * until it comes back; rather than leave the tasks on its local DSQ waiting, re-enqueue them
     * (see the SCX_ENQ_REENQ branch of {@link #enqueue}). The op itself is declared by
     * {@link ScxQmap} only.
     */
    final void qmapCpuRelease(int cpu, CpuReleaseArgs args) {
        int cnt = scx_bpf_reenqueue_local();
        if (cnt != 0) {
            nrReenqueued.addAndGet(Integer.toUnsignedLong(cnt));
        }
    }

    /** qmap_init_task(): sleepable, so the task's storage is created here. */
    @Override
    public final int initTask(Task p, InitTaskArgs args) {
        return taskCtxStor.getOrCreate(p, TaskCtx::new) != null ? 0 : -ENOMEM;
    }

    /** qmap_dump(): prints (and, like the original, drains) the five FIFOs. */
    @Override
    public final void dump(DumpCtx dctx) {
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
                scx_bpf_dump(" %d", pid);
            }
            scx_bpf_dump("\n");
        }
    }

    /** qmap_dump_cpu() */
    @Override
    public final void dumpCpu(DumpCtx dctx, int cpu, boolean idle) {
        if (suppressDump || idle) {
            return;
        }
        scx_bpf_dump("QMAP: dsp_idx=%llu dsp_cnt=%llu", cpuCtxStor.getOpaque(cpu, CPU_CTX_DSP_IDX),
                cpuCtxStor.getOpaque(cpu, CPU_CTX_DSP_CNT));
    }

    /** qmap_dump_task() */
    @Override
    public final void dumpTask(DumpCtx dctx, Task p) {
        if (suppressDump) {
            return;
        }
        TaskCtx taskc = taskCtxStor.get(p);
        if (taskc == null) {
            return;
        }
        scx_bpf_dump("QMAP: force_local=%d", taskc.forceLocal);
    }

    /** qmap_init(): sleepable. */
    @Override
    public final int init() {
        return scx_bpf_create_dsq(SHARED_DSQ, -1);
    }

    /** qmap_exit(): UEI_RECORD(uei, ei). */
    @Override
    public final void exit(ExitInfo info) {
        uei = info;
    }

    /**
     * bpf_task_from_pid(pid) for the tasks this scheduler can queue: the live task with that pid,
     * or null. (The reference needs no bpf_task_release(): the garbage collector keeps it.)
     */
    final Task bpfTaskFromPid(int pid) {
        return taskCtxStor.taskOf(pid);
    }

    // --- the user-space half -------------------------------------------------------------------------

    /** UEI_EXITED(): the exit info ops.exit() recorded, or null while the scheduler runs. */
    public final ExitInfo exitInfo() {
        return uei;
    }

    /**
     * The pids queued in the five FIFOs (what dumping the queue maps would show); exact only
     * while no op runs.
     */
    public final long queuedPids() {
        long n = 0;
        for (QueueMap q : queueArr) {
            n += q.size();
        }
        return n;
    }

    /** The BPF side's counters, by their BPF names. */
    @Override
    public final Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("nr_enqueued", nrEnqueued.get());
        m.put("nr_dispatched", nrDispatched.get());
        m.put("nr_reenqueued", nrReenqueued.get());
        m.put("nr_dequeued", nrDequeued.get());
        return Collections.unmodifiableMap(m);
    }

    /** The line scx_qmap prints every second (the seed's format). */
    @Override
    public final String statsLine() {
        long enq = nrEnqueued.get();
        long dsp = nrDispatched.get();
        return "stats  : enq=" + Long.toUnsignedString(enq) + " dsp=" + Long.toUnsignedString(dsp) + " delta="
                + (enq - dsp) + " reenq=" + Long.toUnsignedString(nrReenqueued.get()) + " deq="
                + Long.toUnsignedString(nrDequeued.get());
    }
}
