// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

/**
 * The ops of {@code struct sched_ext_ops} (v7 series, plus 6.12's cgroup ops where 6.12's struct
 * has them), in struct order, with kernel names.
 */
public enum ScxOp {
    SELECT_CPU("select_cpu"),
    ENQUEUE("enqueue"),
    DEQUEUE("dequeue"),
    DISPATCH("dispatch"),
    TICK("tick"),
    RUNNABLE("runnable"),
    RUNNING("running"),
    STOPPING("stopping"),
    QUIESCENT("quiescent"),
    YIELD("yield"),
    CORE_SCHED_BEFORE("core_sched_before"),
    SET_WEIGHT("set_weight"),
    SET_CPUMASK("set_cpumask"),
    UPDATE_IDLE("update_idle"),
    CPU_ACQUIRE("cpu_acquire"),
    CPU_RELEASE("cpu_release"),
    INIT_TASK("init_task"),
    EXIT_TASK("exit_task"),
    ENABLE("enable"),
    DISABLE("disable"),
    DUMP("dump"),
    DUMP_CPU("dump_cpu"),
    DUMP_TASK("dump_task"),
    CGROUP_INIT("cgroup_init"),
    CGROUP_EXIT("cgroup_exit"),
    CGROUP_PREP_MOVE("cgroup_prep_move"),
    CGROUP_MOVE("cgroup_move"),
    CGROUP_CANCEL_MOVE("cgroup_cancel_move"),
    CGROUP_SET_WEIGHT("cgroup_set_weight"),
    CPU_ONLINE("cpu_online"),
    CPU_OFFLINE("cpu_offline"),
    INIT("init"),
    EXIT("exit");

    public static final int COUNT = values().length;
    private static final ScxOp[] VALUES = values();

    /** The kernel's op name (the JSON's {@code ops_calls} key). */
    public final String kname;

    ScxOp(String kname) {
        this.kname = kname;
    }

    public static ScxOp of(int i) {
        return VALUES[i];
    }
}
