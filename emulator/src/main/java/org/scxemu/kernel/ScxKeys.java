// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

/**
 * sched_ext's static keys. Global, like the kernel's: only one scheduler is loaded at a time in a
 * JVM, as in a kernel. Each is a {@code static final} {@link StaticKey}, so a disabled key folds to
 * {@code false} in compiled code.
 *
 * <p>Written only by the enable and disable paths, under {@link Ext}'s enable mutex.
 */
public final class ScxKeys {
    private ScxKeys() {
    }

    /** __scx_ops_enabled: scx_enabled() */
    public static final StaticKey SCX_OPS_ENABLED = StaticKey.defineFalse("__scx_ops_enabled");
    /** __scx_switched_all: scx_switched_all() */
    public static final StaticKey SCX_SWITCHED_ALL = StaticKey.defineFalse("__scx_switched_all");
    public static final StaticKey SCX_OPS_ENQ_LAST = StaticKey.defineFalse("scx_ops_enq_last");
    public static final StaticKey SCX_OPS_ENQ_EXITING = StaticKey.defineFalse("scx_ops_enq_exiting");
    /** The seed's key: on iff the scheduler implements cpu_acquire or cpu_release. */
    public static final StaticKey SCX_OPS_CPU_PREEMPT = StaticKey.defineFalse("scx_ops_cpu_preempt");
    public static final StaticKey SCX_BUILTIN_IDLE_ENABLED = StaticKey.defineFalse("scx_builtin_idle_enabled");

    /* scx_has_op[]: one key per op, SCX_HAS_OP(op). */
    public static final StaticKey HAS_SELECT_CPU = StaticKey.defineFalse("scx_has_op[select_cpu]");
    public static final StaticKey HAS_ENQUEUE = StaticKey.defineFalse("scx_has_op[enqueue]");
    public static final StaticKey HAS_DEQUEUE = StaticKey.defineFalse("scx_has_op[dequeue]");
    public static final StaticKey HAS_DISPATCH = StaticKey.defineFalse("scx_has_op[dispatch]");
    public static final StaticKey HAS_TICK = StaticKey.defineFalse("scx_has_op[tick]");
    public static final StaticKey HAS_RUNNABLE = StaticKey.defineFalse("scx_has_op[runnable]");
    public static final StaticKey HAS_RUNNING = StaticKey.defineFalse("scx_has_op[running]");
    public static final StaticKey HAS_STOPPING = StaticKey.defineFalse("scx_has_op[stopping]");
    public static final StaticKey HAS_QUIESCENT = StaticKey.defineFalse("scx_has_op[quiescent]");
    public static final StaticKey HAS_YIELD = StaticKey.defineFalse("scx_has_op[yield]");
    public static final StaticKey HAS_CORE_SCHED_BEFORE = StaticKey.defineFalse("scx_has_op[core_sched_before]");
    public static final StaticKey HAS_SET_WEIGHT = StaticKey.defineFalse("scx_has_op[set_weight]");
    public static final StaticKey HAS_SET_CPUMASK = StaticKey.defineFalse("scx_has_op[set_cpumask]");
    public static final StaticKey HAS_UPDATE_IDLE = StaticKey.defineFalse("scx_has_op[update_idle]");
    public static final StaticKey HAS_CPU_ACQUIRE = StaticKey.defineFalse("scx_has_op[cpu_acquire]");
    public static final StaticKey HAS_CPU_RELEASE = StaticKey.defineFalse("scx_has_op[cpu_release]");
    public static final StaticKey HAS_INIT_TASK = StaticKey.defineFalse("scx_has_op[init_task]");
    public static final StaticKey HAS_EXIT_TASK = StaticKey.defineFalse("scx_has_op[exit_task]");
    public static final StaticKey HAS_ENABLE = StaticKey.defineFalse("scx_has_op[enable]");
    public static final StaticKey HAS_DISABLE = StaticKey.defineFalse("scx_has_op[disable]");
    public static final StaticKey HAS_DUMP = StaticKey.defineFalse("scx_has_op[dump]");
    public static final StaticKey HAS_DUMP_CPU = StaticKey.defineFalse("scx_has_op[dump_cpu]");
    public static final StaticKey HAS_DUMP_TASK = StaticKey.defineFalse("scx_has_op[dump_task]");
    public static final StaticKey HAS_CGROUP_INIT = StaticKey.defineFalse("scx_has_op[cgroup_init]");
    public static final StaticKey HAS_CGROUP_EXIT = StaticKey.defineFalse("scx_has_op[cgroup_exit]");
    public static final StaticKey HAS_CGROUP_PREP_MOVE = StaticKey.defineFalse("scx_has_op[cgroup_prep_move]");
    public static final StaticKey HAS_CGROUP_MOVE = StaticKey.defineFalse("scx_has_op[cgroup_move]");
    public static final StaticKey HAS_CGROUP_CANCEL_MOVE = StaticKey.defineFalse("scx_has_op[cgroup_cancel_move]");
    public static final StaticKey HAS_CGROUP_SET_WEIGHT = StaticKey.defineFalse("scx_has_op[cgroup_set_weight]");
    public static final StaticKey HAS_CPU_ONLINE = StaticKey.defineFalse("scx_has_op[cpu_online]");
    public static final StaticKey HAS_CPU_OFFLINE = StaticKey.defineFalse("scx_has_op[cpu_offline]");
    public static final StaticKey HAS_INIT = StaticKey.defineFalse("scx_has_op[init]");
    public static final StaticKey HAS_EXIT = StaticKey.defineFalse("scx_has_op[exit]");

    private static final StaticKey[] HAS_OP = {
        HAS_SELECT_CPU, HAS_ENQUEUE, HAS_DEQUEUE, HAS_DISPATCH, HAS_TICK, HAS_RUNNABLE, HAS_RUNNING,
        HAS_STOPPING, HAS_QUIESCENT, HAS_YIELD, HAS_CORE_SCHED_BEFORE, HAS_SET_WEIGHT, HAS_SET_CPUMASK,
        HAS_UPDATE_IDLE, HAS_CPU_ACQUIRE, HAS_CPU_RELEASE, HAS_INIT_TASK, HAS_EXIT_TASK, HAS_ENABLE,
        HAS_DISABLE, HAS_DUMP, HAS_DUMP_CPU, HAS_DUMP_TASK, HAS_CGROUP_INIT, HAS_CGROUP_EXIT,
        HAS_CGROUP_PREP_MOVE, HAS_CGROUP_MOVE, HAS_CGROUP_CANCEL_MOVE, HAS_CGROUP_SET_WEIGHT, HAS_CPU_ONLINE,
        HAS_CPU_OFFLINE, HAS_INIT, HAS_EXIT,
    };

    /** The SCX_HAS_OP key of {@code op} (slow path: enable/disable and reports). */
    public static StaticKey hasOp(ScxOp op) {
        return HAS_OP[op.ordinal()];
    }

    /** Every key, for disabling them all. */
    static StaticKey[] all() {
        StaticKey[] keys = new StaticKey[HAS_OP.length + 6];
        System.arraycopy(HAS_OP, 0, keys, 0, HAS_OP.length);
        keys[HAS_OP.length] = SCX_OPS_ENABLED;
        keys[HAS_OP.length + 1] = SCX_SWITCHED_ALL;
        keys[HAS_OP.length + 2] = SCX_OPS_ENQ_LAST;
        keys[HAS_OP.length + 3] = SCX_OPS_ENQ_EXITING;
        keys[HAS_OP.length + 4] = SCX_OPS_CPU_PREEMPT;
        keys[HAS_OP.length + 5] = SCX_BUILTIN_IDLE_ENABLED;
        return keys;
    }
}
