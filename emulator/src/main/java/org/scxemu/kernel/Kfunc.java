// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

/** The kfuncs, counted per call; {@code kname} is the kernel name without {@code scx_bpf_}. */
public enum Kfunc {
    SELECT_CPU_DFL("select_cpu_dfl"),
    DISPATCH("dispatch"),
    DISPATCH_VTIME("dispatch_vtime"),
    DISPATCH_NR_SLOTS("dispatch_nr_slots"),
    DISPATCH_CANCEL("dispatch_cancel"),
    CONSUME("consume"),
    REENQUEUE_LOCAL("reenqueue_local"),
    KICK_CPU("kick_cpu"),
    DSQ_NR_QUEUED("dsq_nr_queued"),
    CREATE_DSQ("create_dsq"),
    DESTROY_DSQ("destroy_dsq"),
    EXIT("exit_bstr"),
    ERROR("error_bstr"),
    DUMP("dump_bstr"),
    NR_CPU_IDS("nr_cpu_ids"),
    GET_IDLE_CPUMASK("get_idle_cpumask"),
    TEST_AND_CLEAR_CPU_IDLE("test_and_clear_cpu_idle"),
    PICK_IDLE_CPU("pick_idle_cpu"),
    PICK_ANY_CPU("pick_any_cpu"),
    TASK_RUNNING("task_running"),
    TASK_CPU("task_cpu"),
    CPU_RQ("cpu_rq");

    public static final int COUNT = values().length;
    private static final Kfunc[] VALUES = values();

    public final String kname;

    Kfunc(String kname) {
        this.kname = kname;
    }

    public static Kfunc of(int i) {
        return VALUES[i];
    }
}
