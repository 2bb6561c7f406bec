// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

/**
 * The sched_ext constants the kernel side uses, under the kernel's names and with its values (the
 * v7 series; 6.12 where v7 is silent). They live here, in the kernel, so that the kernel never
 * depends on the scheduler API: {@code org.scxemu.scx.Scx} implements this interface and so
 * re-exports every name, and a scheduler's {@code import static org.scxemu.scx.Scx.*;} sees them
 * unchanged. Kernel classes use {@code import static org.scxemu.kernel.ScxConsts.*;}.
 */
public interface ScxConsts {
    /** SCX_SLICE_DFL: the default slice, 20 ms. */
    long SCX_SLICE_DFL = 20L * 1000 * 1000;
    /** SCX_SLICE_INF: U64_MAX, never expires. */
    long SCX_SLICE_INF = -1L;

    long SCX_DSQ_FLAG_BUILTIN = 1L << 63;
    long SCX_DSQ_FLAG_LOCAL_ON = 1L << 62;
    long SCX_DSQ_INVALID = SCX_DSQ_FLAG_BUILTIN | 0;
    long SCX_DSQ_GLOBAL = SCX_DSQ_FLAG_BUILTIN | 1;
    long SCX_DSQ_LOCAL = SCX_DSQ_FLAG_BUILTIN | 2;
    long SCX_DSQ_LOCAL_ON = SCX_DSQ_FLAG_BUILTIN | SCX_DSQ_FLAG_LOCAL_ON;
    long SCX_DSQ_LOCAL_CPU_MASK = 0xffffffffL;

    /* enum scx_enq_flags */
    long SCX_ENQ_WAKEUP = 1L << 0;
    long SCX_ENQ_HEAD = 1L << 4;
    long SCX_ENQ_PREEMPT = 1L << 32;
    /** A re-enqueue issued by {@code scx_bpf_reenqueue_local()}: the seed's flag. */
    long SCX_ENQ_REENQ = 1L << 40;
    long SCX_ENQ_LAST = 1L << 41;
    long __SCX_ENQ_INTERNAL_MASK = 0xffL << 56;
    long SCX_ENQ_CLEAR_OPSS = 1L << 56;
    long SCX_ENQ_DSQ_PRIQ = 1L << 57;

    /* enum scx_deq_flags */
    long SCX_DEQ_SLEEP = 1L << 0;
    long SCX_DEQ_CORE_SCHED_EXEC = 1L << 32;

    /* wake flags */
    long SCX_WAKE_FORK = 0x04;
    long SCX_WAKE_TTWU = 0x08;
    long SCX_WAKE_SYNC = 0x10;

    /* enum scx_kick_flags */
    long SCX_KICK_IDLE = 1L << 0;
    long SCX_KICK_PREEMPT = 1L << 1;
    long SCX_KICK_WAIT = 1L << 2;

    /* enum scx_pick_idle_cpu_flags */
    long SCX_PICK_IDLE_CORE = 1L << 0;

    /* enum scx_ops_flags */
    long SCX_OPS_KEEP_BUILTIN_IDLE = 1L << 0;
    long SCX_OPS_ENQ_LAST = 1L << 1;
    long SCX_OPS_ENQ_EXITING = 1L << 2;
    long SCX_OPS_SWITCH_PARTIAL = 1L << 3;
    long SCX_OPS_ALL_FLAGS = SCX_OPS_KEEP_BUILTIN_IDLE | SCX_OPS_ENQ_LAST
            | SCX_OPS_ENQ_EXITING | SCX_OPS_SWITCH_PARTIAL;
    /** 6.12: the scheduler implements cgroup cpu.weight (in 6.12's SCX_OPS_ALL_FLAGS, not v7's). */
    long SCX_OPS_HAS_CGROUP_WEIGHT = 1L << 16;
    /** [later, 6.16] internal ops flag replacing the scx_ops_cpu_preempt static key. */
    long SCX_OPS_HAS_CPU_PREEMPT = 1L << 56;

    /* enum scx_cpu_preempt_reason: the seed's. */
    int SCX_CPU_PREEMPT_RT = 0;
    int SCX_CPU_PREEMPT_DL = 1;
    int SCX_CPU_PREEMPT_STOP = 2;
    int SCX_CPU_PREEMPT_UNKNOWN = 3;

    /* enum scx_exit_kind */
    int SCX_EXIT_NONE = 0;
    int SCX_EXIT_DONE = 1;
    int SCX_EXIT_UNREG = 64;
    int SCX_EXIT_UNREG_BPF = 65;
    int SCX_EXIT_UNREG_KERN = 66;
    int SCX_EXIT_SYSRQ = 67;
    int SCX_EXIT_ERROR = 1024;
    int SCX_EXIT_ERROR_BPF = 1025;
    int SCX_EXIT_ERROR_STALL = 1026;

    /* enum scx_exit_code */
    long SCX_ECODE_RSN_HOTPLUG = 1L << 32;
    long SCX_ECODE_ACT_RESTART = 1L << 48;

    /* enum scx_kf_mask, v7 values (the seed's hunk) */
    int SCX_KF_UNLOCKED = 0;
    int SCX_KF_SLEEPABLE = 1 << 0;
    int SCX_KF_CPU_RELEASE = 1 << 1;
    int SCX_KF_DISPATCH = 1 << 2;
    int SCX_KF_ENQUEUE = 1 << 3;
    int SCX_KF_SELECT_CPU = 1 << 4;
    int SCX_KF_REST = 1 << 5;
    int __SCX_KF_RQ_LOCKED = SCX_KF_CPU_RELEASE | SCX_KF_DISPATCH
            | SCX_KF_ENQUEUE | SCX_KF_SELECT_CPU | SCX_KF_REST;
    int __SCX_KF_TERMINAL = SCX_KF_ENQUEUE | SCX_KF_SELECT_CPU | SCX_KF_REST;

    /* enum scx_ent_flags (p->scx.flags) */
    int SCX_TASK_QUEUED = 1 << 0;
    int SCX_TASK_BAL_KEEP = 1 << 1;
    int SCX_TASK_RESET_RUNNABLE_AT = 1 << 2;
    int SCX_TASK_DEQD_FOR_SLEEP = 1 << 3;
    int SCX_TASK_STATE_SHIFT = 8;
    int SCX_TASK_STATE_BITS = 2;
    int SCX_TASK_STATE_MASK = ((1 << SCX_TASK_STATE_BITS) - 1) << SCX_TASK_STATE_SHIFT;
    int SCX_TASK_CURSOR = 1 << 31;

    /* enum scx_task_state */
    int SCX_TASK_NONE = 0;
    int SCX_TASK_INIT = 1;
    int SCX_TASK_READY = 2;
    int SCX_TASK_ENABLED = 3;

    /* enum scx_ops_state */
    long SCX_OPSS_NONE = 0;
    long SCX_OPSS_QUEUEING = 1;
    long SCX_OPSS_QUEUED = 2;
    long SCX_OPSS_DISPATCHING = 3;
    int SCX_OPSS_QSEQ_SHIFT = 2;
    long SCX_OPSS_STATE_MASK = (1L << SCX_OPSS_QSEQ_SHIFT) - 1;
    long SCX_OPSS_QSEQ_MASK = ~SCX_OPSS_STATE_MASK;

    /* scx_rq->flags (v7) */
    int SCX_RQ_ONLINE = 1 << 0;
    int SCX_RQ_BALANCING = 1 << 1;
    int SCX_RQ_CAN_STOP_TICK = 1 << 2;

    /* misc limits */
    int SCX_DSP_DFL_MAX_BATCH = 32;
    int SCX_DSP_MAX_LOOPS = 32;
    long SCX_WATCHDOG_MAX_TIMEOUT_NS = 30L * 1000 * 1000 * 1000;
    int SCX_EXIT_BT_LEN = 64;
    int SCX_EXIT_MSG_LEN = 1024;
    int SCX_EXIT_DUMP_DFL_LEN = 32768;
    int SCX_OPS_NAME_LEN = 128;
    int SCX_CPUPERF_ONE = 1024;

    /* errno values returned by kfuncs and ops, negated as the kernel does */
    int EPERM = 1;
    int ENOENT = 2;
    int ESRCH = 3;
    int ENOMEM = 12;
    int EACCES = 13;
    int EBUSY = 16;
    int EEXIST = 17;
    int EINVAL = 22;
    int E2BIG = 7;
    int EPROTO = 71;
    int EOPNOTSUPP = 95;

    /* ---- 6.12 kfunc constants (kapi) ---- */
    /* enum scx_dsq_iter_flags (6.12): flags of bpf_iter_scx_dsq_new() and the iterator's cursor */
    /** SCX_DSQ_ITER_REV: walk the DSQ from its tail (last to first). */
    long SCX_DSQ_ITER_REV = 1L << 16;
    long __SCX_DSQ_ITER_HAS_SLICE = 1L << 30;
    long __SCX_DSQ_ITER_HAS_VTIME = 1L << 31;
    long __SCX_DSQ_ITER_USER_FLAGS = SCX_DSQ_ITER_REV;
    long __SCX_DSQ_ITER_ALL_FLAGS = __SCX_DSQ_ITER_USER_FLAGS | __SCX_DSQ_ITER_HAS_SLICE
            | __SCX_DSQ_ITER_HAS_VTIME;
}
