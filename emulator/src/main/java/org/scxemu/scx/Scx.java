// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.scx;

import org.scxemu.kernel.CpuMask;
import org.scxemu.kernel.Kfuncs;
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
 */
@SuppressWarnings("checkstyle:methodname")
public final class Scx {
    private Scx() {
    }

    // ---------------------------------------------------------------------------------------
    // Constants, with the kernel's names and values (v7 series; 6.12 where v7 is silent).
    // ---------------------------------------------------------------------------------------

    /** SCX_SLICE_DFL: the default slice, 20 ms. */
    public static final long SCX_SLICE_DFL = 20L * 1000 * 1000;
    /** SCX_SLICE_INF: U64_MAX, never expires. */
    public static final long SCX_SLICE_INF = -1L;

    public static final long SCX_DSQ_FLAG_BUILTIN = 1L << 63;
    public static final long SCX_DSQ_FLAG_LOCAL_ON = 1L << 62;
    public static final long SCX_DSQ_INVALID = SCX_DSQ_FLAG_BUILTIN | 0;
    public static final long SCX_DSQ_GLOBAL = SCX_DSQ_FLAG_BUILTIN | 1;
    public static final long SCX_DSQ_LOCAL = SCX_DSQ_FLAG_BUILTIN | 2;
    public static final long SCX_DSQ_LOCAL_ON = SCX_DSQ_FLAG_BUILTIN | SCX_DSQ_FLAG_LOCAL_ON;
    public static final long SCX_DSQ_LOCAL_CPU_MASK = 0xffffffffL;

    /* enum scx_enq_flags */
    public static final long SCX_ENQ_WAKEUP = 1L << 0;
    public static final long SCX_ENQ_HEAD = 1L << 4;
    public static final long SCX_ENQ_PREEMPT = 1L << 32;
    /** A re-enqueue issued by {@link #scx_bpf_reenqueue_local()}: the seed's flag. */
    public static final long SCX_ENQ_REENQ = 1L << 40;
    public static final long SCX_ENQ_LAST = 1L << 41;
    public static final long __SCX_ENQ_INTERNAL_MASK = 0xffL << 56;
    public static final long SCX_ENQ_CLEAR_OPSS = 1L << 56;
    public static final long SCX_ENQ_DSQ_PRIQ = 1L << 57;

    /* enum scx_deq_flags */
    public static final long SCX_DEQ_SLEEP = 1L << 0;
    public static final long SCX_DEQ_CORE_SCHED_EXEC = 1L << 32;

    /* wake flags */
    public static final long SCX_WAKE_FORK = 0x04;
    public static final long SCX_WAKE_TTWU = 0x08;
    public static final long SCX_WAKE_SYNC = 0x10;

    /* enum scx_kick_flags */
    public static final long SCX_KICK_IDLE = 1L << 0;
    public static final long SCX_KICK_PREEMPT = 1L << 1;
    public static final long SCX_KICK_WAIT = 1L << 2;

    /* enum scx_pick_idle_cpu_flags */
    public static final long SCX_PICK_IDLE_CORE = 1L << 0;

    /* enum scx_ops_flags */
    public static final long SCX_OPS_KEEP_BUILTIN_IDLE = 1L << 0;
    public static final long SCX_OPS_ENQ_LAST = 1L << 1;
    public static final long SCX_OPS_ENQ_EXITING = 1L << 2;
    public static final long SCX_OPS_SWITCH_PARTIAL = 1L << 3;
    public static final long SCX_OPS_ALL_FLAGS = SCX_OPS_KEEP_BUILTIN_IDLE | SCX_OPS_ENQ_LAST
            | SCX_OPS_ENQ_EXITING | SCX_OPS_SWITCH_PARTIAL;
    /** [later, 6.16] internal ops flag replacing the scx_ops_cpu_preempt static key. */
    public static final long SCX_OPS_HAS_CPU_PREEMPT = 1L << 56;

    /* enum scx_cpu_preempt_reason: the seed's. */
    public static final int SCX_CPU_PREEMPT_RT = 0;
    public static final int SCX_CPU_PREEMPT_DL = 1;
    public static final int SCX_CPU_PREEMPT_STOP = 2;
    public static final int SCX_CPU_PREEMPT_UNKNOWN = 3;

    /* enum scx_exit_kind */
    public static final int SCX_EXIT_NONE = 0;
    public static final int SCX_EXIT_DONE = 1;
    public static final int SCX_EXIT_UNREG = 64;
    public static final int SCX_EXIT_UNREG_BPF = 65;
    public static final int SCX_EXIT_UNREG_KERN = 66;
    public static final int SCX_EXIT_SYSRQ = 67;
    public static final int SCX_EXIT_ERROR = 1024;
    public static final int SCX_EXIT_ERROR_BPF = 1025;
    public static final int SCX_EXIT_ERROR_STALL = 1026;

    /* enum scx_exit_code */
    public static final long SCX_ECODE_RSN_HOTPLUG = 1L << 32;
    public static final long SCX_ECODE_ACT_RESTART = 1L << 48;

    /* enum scx_kf_mask, v7 values (the seed's hunk) */
    public static final int SCX_KF_UNLOCKED = 0;
    public static final int SCX_KF_SLEEPABLE = 1 << 0;
    public static final int SCX_KF_CPU_RELEASE = 1 << 1;
    public static final int SCX_KF_DISPATCH = 1 << 2;
    public static final int SCX_KF_ENQUEUE = 1 << 3;
    public static final int SCX_KF_SELECT_CPU = 1 << 4;
    public static final int SCX_KF_REST = 1 << 5;
    public static final int __SCX_KF_RQ_LOCKED = SCX_KF_CPU_RELEASE | SCX_KF_DISPATCH
            | SCX_KF_ENQUEUE | SCX_KF_SELECT_CPU | SCX_KF_REST;
    public static final int __SCX_KF_TERMINAL = SCX_KF_ENQUEUE | SCX_KF_SELECT_CPU | SCX_KF_REST;

    /* enum scx_ent_flags (p->scx.flags) */
    public static final int SCX_TASK_QUEUED = 1 << 0;
    public static final int SCX_TASK_BAL_KEEP = 1 << 1;
    public static final int SCX_TASK_RESET_RUNNABLE_AT = 1 << 2;
    public static final int SCX_TASK_DEQD_FOR_SLEEP = 1 << 3;
    public static final int SCX_TASK_STATE_SHIFT = 8;
    public static final int SCX_TASK_STATE_BITS = 2;
    public static final int SCX_TASK_STATE_MASK = ((1 << SCX_TASK_STATE_BITS) - 1) << SCX_TASK_STATE_SHIFT;
    public static final int SCX_TASK_CURSOR = 1 << 31;

    /* enum scx_task_state */
    public static final int SCX_TASK_NONE = 0;
    public static final int SCX_TASK_INIT = 1;
    public static final int SCX_TASK_READY = 2;
    public static final int SCX_TASK_ENABLED = 3;

    /* enum scx_ops_state */
    public static final long SCX_OPSS_NONE = 0;
    public static final long SCX_OPSS_QUEUEING = 1;
    public static final long SCX_OPSS_QUEUED = 2;
    public static final long SCX_OPSS_DISPATCHING = 3;
    public static final int SCX_OPSS_QSEQ_SHIFT = 2;
    public static final long SCX_OPSS_STATE_MASK = (1L << SCX_OPSS_QSEQ_SHIFT) - 1;
    public static final long SCX_OPSS_QSEQ_MASK = ~SCX_OPSS_STATE_MASK;

    /* scx_rq->flags (v7) */
    public static final int SCX_RQ_ONLINE = 1 << 0;
    public static final int SCX_RQ_BALANCING = 1 << 1;
    public static final int SCX_RQ_CAN_STOP_TICK = 1 << 2;

    /* misc limits */
    public static final int SCX_DSP_DFL_MAX_BATCH = 32;
    public static final int SCX_DSP_MAX_LOOPS = 32;
    public static final long SCX_WATCHDOG_MAX_TIMEOUT_NS = 30L * 1000 * 1000 * 1000;
    public static final int SCX_EXIT_BT_LEN = 64;
    public static final int SCX_EXIT_MSG_LEN = 1024;
    public static final int SCX_EXIT_DUMP_DFL_LEN = 32768;
    public static final int SCX_OPS_NAME_LEN = 128;
    public static final int SCX_CPUPERF_ONE = 1024;

    /* errno values returned by kfuncs and ops, negated as the kernel does */
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int EINVAL = 22;
    public static final int E2BIG = 7;
    public static final int EPROTO = 71;
    public static final int EOPNOTSUPP = 95;

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

    /** scx_bpf_dsq_insert(): the 6.13 name of {@link #scx_bpf_dispatch}. */
    public static void scx_bpf_dsq_insert(Task p, long dsq_id, long slice, long enq_flags) {
        Kfuncs.dispatch(p, dsq_id, slice, enq_flags);
    }

    /** scx_bpf_dsq_insert_vtime(): the 6.13 name of {@link #scx_bpf_dispatch_vtime}. */
    public static void scx_bpf_dsq_insert_vtime(Task p, long dsq_id, long slice, long vtime, long enq_flags) {
        Kfuncs.dispatchVtime(p, dsq_id, slice, vtime, enq_flags);
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

    /** scx_bpf_dsq_move_to_local(): the 6.13 name of {@link #scx_bpf_consume}. */
    public static boolean scx_bpf_dsq_move_to_local(long dsq_id) {
        return Kfuncs.consume(dsq_id);
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

    /** scx_bpf_put_idle_cpumask(): a no-op, as the kernel's. */
    public static void scx_bpf_put_idle_cpumask(CpuMask mask) {
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

    /** bpf_get_smp_processor_id(): the CPU the op runs on (-1 off-CPU). */
    public static int bpf_get_smp_processor_id() {
        return Kfuncs.smpProcessorId();
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
