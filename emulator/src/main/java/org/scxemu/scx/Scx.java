// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.scx;

import org.scxemu.kernel.Cgroup;
import org.scxemu.kernel.CpuMask;
import org.scxemu.kernel.DsqIter;
import org.scxemu.kernel.Kfunc;
import org.scxemu.kernel.Kfuncs;
import org.scxemu.kernel.KfuncsCpu;
import org.scxemu.kernel.KfuncsDsq;
import org.scxemu.kernel.Rq;
import org.scxemu.kernel.ScxConsts;
import org.scxemu.kernel.Task;

/**
 * What a BPF scheduler sees of the kernel: every sched_ext kfunc and constant under its kernel
 * name, so that after {@code import static org.scxemu.scx.Scx.*;} a scheduler reads like its
 * BPF original. The 6.13 spellings ({@code scx_bpf_dsq_insert}, ...) are aliases.
 *
 * <p>Each kfunc checks its calling context exactly as {@code scx_kf_allowed()} does: called from
 * an op whose kf_mask does not allow it, it ejects the scheduler with the kernel's message
 * ("kfunc with mask 0x%x called from an operation only allowing 0x%x", "cpu_release kfunc called
 * from a nested operation", "dispatch kfunc called from a nested operation").
 *
 * <p>The constants ({@code SCX_DSQ_LOCAL}, {@code SCX_ENQ_HEAD}, the errnos...) are the kernel's
 * own, inherited from {@link ScxConsts}: the API depends on the kernel, never the reverse.
 */
@SuppressWarnings("checkstyle:methodname")
public final class Scx implements ScxConsts {
    private Scx() {
    }

    // ---------------------------------------------------------------------------------------
    // kfuncs
    // ---------------------------------------------------------------------------------------

    /** scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle): select_cpu context only. */
    public static int scx_bpf_select_cpu_dfl(Task p, int prev_cpu, long wake_flags, boolean[] is_idle) {
        return Kfuncs.selectCpuDfl(p, prev_cpu, wake_flags, is_idle);
    }

    /** scx_bpf_dispatch(p, dsq_id, slice, enq_flags): enqueue, select_cpu or dispatch context. */
    public static void scx_bpf_dispatch(Task p, long dsq_id, long slice, long enq_flags) {
        Kfuncs.dispatch(p, dsq_id, slice, enq_flags);
    }

    /** scx_bpf_dispatch_vtime(p, dsq_id, slice, vtime, enq_flags) */
    public static void scx_bpf_dispatch_vtime(Task p, long dsq_id, long slice, long vtime, long enq_flags) {
        Kfuncs.dispatchVtime(p, dsq_id, slice, vtime, enq_flags);
    }

    /** scx_bpf_dsq_insert(): the 6.13 name of {@link #scx_bpf_dispatch} (6.16+ profiles). */
    public static void scx_bpf_dsq_insert(Task p, long dsq_id, long slice, long enq_flags) {
        Kfuncs.dsqInsert(p, dsq_id, slice, enq_flags);
    }

    /** scx_bpf_dsq_insert_vtime(): the 6.13 name of {@link #scx_bpf_dispatch_vtime} (6.16+). */
    public static void scx_bpf_dsq_insert_vtime(Task p, long dsq_id, long slice, long vtime, long enq_flags) {
        Kfuncs.dsqInsertVtime(p, dsq_id, slice, vtime, enq_flags);
    }

    /** scx_bpf_dispatch_nr_slots(): dispatch context. */
    public static int scx_bpf_dispatch_nr_slots() {
        return Kfuncs.dispatchNrSlots();
    }

    /** scx_bpf_dispatch_cancel(): dispatch context. */
    public static void scx_bpf_dispatch_cancel() {
        Kfuncs.dispatchCancel();
    }

    /** scx_bpf_consume(dsq_id): dispatch context. */
    public static boolean scx_bpf_consume(long dsq_id) {
        return Kfuncs.consume(dsq_id);
    }

    /** scx_bpf_dsq_move_to_local(): the 6.13 name of {@link #scx_bpf_consume} (6.16+). */
    public static boolean scx_bpf_dsq_move_to_local(long dsq_id) {
        return Kfuncs.dsqMoveToLocal(dsq_id);
    }

    /**
     * scx_bpf_reenqueue_local(): the seed's kfunc. Only from ops.cpu_release(): re-enqueues every
     * task on this CPU's local DSQ with SCX_ENQ_REENQ and returns how many.
     */
    public static int scx_bpf_reenqueue_local() {
        return Kfuncs.reenqueueLocal();
    }

    /** scx_bpf_kick_cpu(cpu, flags): any context; the kick happens after the op returns. */
    public static void scx_bpf_kick_cpu(int cpu, long flags) {
        Kfuncs.kickCpu(cpu, flags);
    }

    /** scx_bpf_dsq_nr_queued(dsq_id): tasks on a DSQ, or -ENOENT. */
    public static int scx_bpf_dsq_nr_queued(long dsq_id) {
        return Kfuncs.dsqNrQueued(dsq_id);
    }

    /** scx_bpf_create_dsq(dsq_id, node): sleepable context (ops.init(), ops.init_task()). */
    public static int scx_bpf_create_dsq(long dsq_id, int node) {
        return Kfuncs.createDsq(dsq_id, node);
    }

    /** scx_bpf_destroy_dsq(dsq_id) */
    public static void scx_bpf_destroy_dsq(long dsq_id) {
        Kfuncs.destroyDsq(dsq_id);
    }

    /** scx_bpf_exit(code, fmt, ...): SCX_EXIT_UNREG_BPF with the code and message. */
    public static void scx_bpf_exit(long code, String fmt, Object... args) {
        Kfuncs.exit(code, fmt, args);
    }

    /** scx_bpf_error(fmt, ...): SCX_EXIT_ERROR_BPF with the message. */
    public static void scx_bpf_error(String fmt, Object... args) {
        Kfuncs.error(fmt, args);
    }

    /** scx_bpf_dump(fmt, ...): only from ops.dump(), dump_cpu() and dump_task(). */
    public static void scx_bpf_dump(String fmt, Object... args) {
        Kfuncs.dump(fmt, args);
    }

    /** scx_bpf_nr_cpu_ids() */
    public static int scx_bpf_nr_cpu_ids() {
        return Kfuncs.nrCpuIds();
    }

    /** scx_bpf_get_idle_cpumask(): a snapshot (release with scx_bpf_put_idle_cpumask()). */
    public static CpuMask scx_bpf_get_idle_cpumask() {
        return Kfuncs.getIdleCpumask();
    }

    /** scx_bpf_put_idle_cpumask(): releases nothing, as the kernel's (counted). */
    public static void scx_bpf_put_idle_cpumask(CpuMask mask) {
        KfuncsCpu.putIdleCpumask(mask);
    }

    /** scx_bpf_test_and_clear_cpu_idle(cpu): claim an idle CPU. */
    public static boolean scx_bpf_test_and_clear_cpu_idle(int cpu) {
        return Kfuncs.testAndClearCpuIdle(cpu);
    }

    /** scx_bpf_pick_idle_cpu(cpus_allowed, flags): a claimed idle CPU or -EBUSY. */
    public static int scx_bpf_pick_idle_cpu(CpuMask cpus_allowed, long flags) {
        return Kfuncs.pickIdleCpu(cpus_allowed, flags);
    }

    /** scx_bpf_pick_any_cpu(cpus_allowed, flags) */
    public static int scx_bpf_pick_any_cpu(CpuMask cpus_allowed, long flags) {
        return Kfuncs.pickAnyCpu(cpus_allowed, flags);
    }

    /** scx_bpf_task_running(p) */
    public static boolean scx_bpf_task_running(Task p) {
        return Kfuncs.taskRunning(p);
    }

    /** scx_bpf_task_cpu(p) */
    public static int scx_bpf_task_cpu(Task p) {
        return Kfuncs.taskCpu(p);
    }

    /**
     * scx_bpf_cpu_rq(cpu): the CPU's runqueue, read-only ({@link Rq#curr()}, {@link Rq#nrRunning()},
     * {@link Rq#isIdle()}...; racy snapshots, as a BPF program's reads are); an invalid CPU ejects
     * the scheduler ("invalid CPU %d") and returns null.
     */
    public static Rq scx_bpf_cpu_rq(int cpu) {
        return Kfuncs.cpuRq(cpu);
    }

    // ---------------------------------------------------------------------------------------
    // The 6.12 kfuncs (a profile whose kernel lacks one ejects the scheduler at the call with
    // "kfunc NAME() does not exist in kernel PROFILE"); the 6.13 spellings from 6.16 on.
    // ---------------------------------------------------------------------------------------

    /**
     * bpf_iter_scx_dsq_new(it, dsq_id, flags): starts a walk of user DSQ {@code dsq_id} that sees
     * only the tasks queued now; {@code flags} 0 or SCX_DSQ_ITER_REV (last to first). 0, -ENOENT
     * (no such user DSQ: the global and local DSQs cannot be walked) or -EINVAL (bad flags).
     */
    public static int bpf_iter_scx_dsq_new(DsqIter it, long dsq_id, long flags) {
        return KfuncsDsq.iterNew(it, dsq_id, flags);
    }

    /** bpf_iter_scx_dsq_next(it): the next task of the walk, or null at its end. */
    public static Task bpf_iter_scx_dsq_next(DsqIter it) {
        return KfuncsDsq.iterNext(it);
    }

    /** bpf_iter_scx_dsq_destroy(it): ends the walk. */
    public static void bpf_iter_scx_dsq_destroy(DsqIter it) {
        KfuncsDsq.iterDestroy(it);
    }

    /**
     * bpf_for_each(scx_dsq, p, dsq_id, flags) for Java: {@code for (Task p : it)} over a new
     * iterator (bpf_iter_scx_dsq_new() done; each step is a bpf_iter_scx_dsq_next()). Keep the
     * iterator in a variable to pass it to {@link #scx_bpf_dispatch_from_dsq}. A failed new()
     * gives an empty walk.
     */
    public static DsqIter bpf_for_each_scx_dsq(long dsq_id, long flags) {
        DsqIter it = new DsqIter();
        KfuncsDsq.iterNew(it, dsq_id, flags);
        return it;
    }

    /** scx_bpf_dispatch_from_dsq_set_slice(it__iter, slice): the slice of the next move. */
    public static void scx_bpf_dispatch_from_dsq_set_slice(DsqIter it__iter, long slice) {
        KfuncsDsq.dispatchFromDsqSetSlice(Kfunc.DISPATCH_FROM_DSQ_SET_SLICE, it__iter, slice);
    }

    /** scx_bpf_dispatch_from_dsq_set_vtime(it__iter, vtime): the vtime of the next move. */
    public static void scx_bpf_dispatch_from_dsq_set_vtime(DsqIter it__iter, long vtime) {
        KfuncsDsq.dispatchFromDsqSetVtime(Kfunc.DISPATCH_FROM_DSQ_SET_VTIME, it__iter, vtime);
    }

    /**
     * scx_bpf_dispatch_from_dsq(it__iter, p, dsq_id, enq_flags): moves {@code p}, still on the
     * iterated DSQ and queued before the walk began, to {@code dsq_id} (any DSQ). From
     * ops.dispatch() or an unlocked context (a BPF timer, ops.init()); true if moved.
     */
    public static boolean scx_bpf_dispatch_from_dsq(DsqIter it__iter, Task p, long dsq_id, long enq_flags) {
        return KfuncsDsq.dispatchFromDsq(Kfunc.DISPATCH_FROM_DSQ, it__iter, p, dsq_id, enq_flags, false);
    }

    /** scx_bpf_dispatch_vtime_from_dsq(): as {@link #scx_bpf_dispatch_from_dsq}, in vtime order. */
    public static boolean scx_bpf_dispatch_vtime_from_dsq(DsqIter it__iter, Task p, long dsq_id, long enq_flags) {
        return KfuncsDsq.dispatchFromDsq(Kfunc.DISPATCH_VTIME_FROM_DSQ, it__iter, p, dsq_id, enq_flags, true);
    }

    /** scx_bpf_dsq_move_set_slice(): 6.13's name of scx_bpf_dispatch_from_dsq_set_slice(). */
    public static void scx_bpf_dsq_move_set_slice(DsqIter it__iter, long slice) {
        KfuncsDsq.dispatchFromDsqSetSlice(Kfunc.DSQ_MOVE_SET_SLICE, it__iter, slice);
    }

    /** scx_bpf_dsq_move_set_vtime(): 6.13's name of scx_bpf_dispatch_from_dsq_set_vtime(). */
    public static void scx_bpf_dsq_move_set_vtime(DsqIter it__iter, long vtime) {
        KfuncsDsq.dispatchFromDsqSetVtime(Kfunc.DSQ_MOVE_SET_VTIME, it__iter, vtime);
    }

    /** scx_bpf_dsq_move(): 6.13's name of scx_bpf_dispatch_from_dsq(). */
    public static boolean scx_bpf_dsq_move(DsqIter it__iter, Task p, long dsq_id, long enq_flags) {
        return KfuncsDsq.dispatchFromDsq(Kfunc.DSQ_MOVE, it__iter, p, dsq_id, enq_flags, false);
    }

    /** scx_bpf_dsq_move_vtime(): 6.13's name of scx_bpf_dispatch_vtime_from_dsq(). */
    public static boolean scx_bpf_dsq_move_vtime(DsqIter it__iter, Task p, long dsq_id, long enq_flags) {
        return KfuncsDsq.dispatchFromDsq(Kfunc.DSQ_MOVE_VTIME, it__iter, p, dsq_id, enq_flags, true);
    }

    /** scx_bpf_cpuperf_cap(cpu): the CPU's capacity, 1..SCX_CPUPERF_ONE (always ONE here). */
    public static int scx_bpf_cpuperf_cap(int cpu) {
        return KfuncsCpu.cpuperfCap(cpu);
    }

    /** scx_bpf_cpuperf_cur(cpu): the CPU's current performance level (always ONE here). */
    public static int scx_bpf_cpuperf_cur(int cpu) {
        return KfuncsCpu.cpuperfCur(cpu);
    }

    /** scx_bpf_cpuperf_set(cpu, perf): asks for a performance level, at most SCX_CPUPERF_ONE. */
    public static void scx_bpf_cpuperf_set(int cpu, int perf) {
        KfuncsCpu.cpuperfSet(cpu, perf);
    }

    /** scx_bpf_get_possible_cpumask(): every CPU (release with scx_bpf_put_cpumask()). */
    public static CpuMask scx_bpf_get_possible_cpumask() {
        return KfuncsCpu.getPossibleCpumask();
    }

    /** scx_bpf_get_online_cpumask(): the online CPUs now (release with scx_bpf_put_cpumask()). */
    public static CpuMask scx_bpf_get_online_cpumask() {
        return KfuncsCpu.getOnlineCpumask();
    }

    /** scx_bpf_put_cpumask(mask): releases nothing, as the kernel's (counted). */
    public static void scx_bpf_put_cpumask(CpuMask mask) {
        KfuncsCpu.putCpumask(mask);
    }

    /** scx_bpf_get_idle_smtmask(): idle whole cores; with no SMT, the idle CPU mask. */
    public static CpuMask scx_bpf_get_idle_smtmask() {
        return KfuncsCpu.getIdleSmtmask();
    }

    /**
     * scx_bpf_task_cgroup(p): {@code p}'s cgroup, from an op holding the rq lock that operates on
     * {@code p} (else the scheduler is ejected and the root returned).
     */
    public static Cgroup scx_bpf_task_cgroup(Task p) {
        return KfuncsCpu.taskCgroup(p);
    }

    /** bpf_task_from_pid(pid): the live task with that pid, or null (release: a no-op here). */
    public static Task bpf_task_from_pid(int pid) {
        return Kfuncs.taskFromPid(pid);
    }

    /** bpf_task_release(p): a no-op; tasks are garbage collected. */
    public static void bpf_task_release(Task p) {
    }

    /** BPF_F_TIMER_CPU_PIN: the timer fires on the CPU that started it (always true here). */
    public static final long BPF_F_TIMER_CPU_PIN = 1L << 1;

    /** bpf_timer_start(timer, nsecs, flags): fires on the calling CPU (CPU 0 when off-CPU). */
    public static int bpf_timer_start(BpfTimer timer, long nsecs, long flags) {
        return Kfuncs.timerStart(timer.timer, nsecs);
    }

    /** bpf_timer_cancel(timer) */
    public static int bpf_timer_cancel(BpfTimer timer) {
        return Kfuncs.timerCancel(timer.timer);
    }

    /** bpf_ktime_get_ns(): the kernel clock. */
    public static long bpf_ktime_get_ns() {
        return Kfuncs.ktimeGetNs();
    }

    /**
     * bpf_get_smp_processor_id(): the CPU the op runs on (off a CPU thread, e.g. a fork by the
     * harness: the CPU of the task operated on, else 0; never -1).
     */
    public static int bpf_get_smp_processor_id() {
        return Kfuncs.smpProcessorId();
    }

    /** bpf_get_prandom_u32(): seeded from the run's --seed (per CPU stream); an int holding a u32. */
    public static int bpf_get_prandom_u32() {
        return Kfuncs.prandomU32();
    }

    /**
     * scx_ops_error(fmt, ...): ejects the scheduler with SCX_EXIT_ERROR, as the kernel does when
     * it finds the scheduler at fault (the BPF loader uses it for run-time faults that the
     * kernel's verifier would have refused at load).
     */
    public static void scx_ops_error(String fmt, Object... args) {
        Kfuncs.opsError(fmt, args);
    }
}
