// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

import java.util.HashMap;
import java.util.Map;

/**
 * The kfuncs a BPF object may call, by kernel name, each bound in {@link Vm#callKfunc} to the
 * {@link org.scxemu.scx.Scx} entry point a Java scheduler calls (so context checks and error texts
 * are the kernel's), or implemented here where the scheduler API has no such kfunc. The 6.13
 * spellings are aliases of the 6.12 ones.
 */
enum Kfunc {
    SCX_BPF_SELECT_CPU_DFL("scx_bpf_select_cpu_dfl"),
    SCX_BPF_DISPATCH("scx_bpf_dispatch", "scx_bpf_dsq_insert"),
    SCX_BPF_DISPATCH_VTIME("scx_bpf_dispatch_vtime", "scx_bpf_dsq_insert_vtime"),
    SCX_BPF_DISPATCH_NR_SLOTS("scx_bpf_dispatch_nr_slots"),
    SCX_BPF_DISPATCH_CANCEL("scx_bpf_dispatch_cancel"),
    SCX_BPF_CONSUME("scx_bpf_consume", "scx_bpf_dsq_move_to_local"),
    SCX_BPF_REENQUEUE_LOCAL("scx_bpf_reenqueue_local"),
    SCX_BPF_KICK_CPU("scx_bpf_kick_cpu"),
    SCX_BPF_DSQ_NR_QUEUED("scx_bpf_dsq_nr_queued"),
    SCX_BPF_CREATE_DSQ("scx_bpf_create_dsq"),
    SCX_BPF_DESTROY_DSQ("scx_bpf_destroy_dsq"),
    SCX_BPF_EXIT_BSTR("scx_bpf_exit_bstr"),
    SCX_BPF_ERROR_BSTR("scx_bpf_error_bstr"),
    SCX_BPF_DUMP_BSTR("scx_bpf_dump_bstr"),
    SCX_BPF_NR_CPU_IDS("scx_bpf_nr_cpu_ids"),
    SCX_BPF_GET_IDLE_CPUMASK("scx_bpf_get_idle_cpumask"),
    SCX_BPF_GET_IDLE_SMTMASK("scx_bpf_get_idle_smtmask"),
    SCX_BPF_PUT_IDLE_CPUMASK("scx_bpf_put_idle_cpumask"),
    SCX_BPF_GET_ONLINE_CPUMASK("scx_bpf_get_online_cpumask"),
    SCX_BPF_GET_POSSIBLE_CPUMASK("scx_bpf_get_possible_cpumask"),
    SCX_BPF_PUT_CPUMASK("scx_bpf_put_cpumask"),
    SCX_BPF_TEST_AND_CLEAR_CPU_IDLE("scx_bpf_test_and_clear_cpu_idle"),
    SCX_BPF_PICK_IDLE_CPU("scx_bpf_pick_idle_cpu"),
    SCX_BPF_PICK_ANY_CPU("scx_bpf_pick_any_cpu"),
    SCX_BPF_TASK_RUNNING("scx_bpf_task_running"),
    SCX_BPF_TASK_CPU("scx_bpf_task_cpu"),
    SCX_BPF_CPUPERF_CAP("scx_bpf_cpuperf_cap"),
    SCX_BPF_CPUPERF_CUR("scx_bpf_cpuperf_cur"),
    SCX_BPF_CPUPERF_SET("scx_bpf_cpuperf_set"),
    BPF_TASK_FROM_PID("bpf_task_from_pid"),
    BPF_TASK_ACQUIRE("bpf_task_acquire"),
    BPF_TASK_RELEASE("bpf_task_release"),
    BPF_CPUMASK_TEST_CPU("bpf_cpumask_test_cpu"),
    BPF_CPUMASK_WEIGHT("bpf_cpumask_weight"),
    BPF_CPUMASK_FIRST("bpf_cpumask_first"),
    BPF_CPUMASK_EMPTY("bpf_cpumask_empty"),
    BPF_RCU_READ_LOCK("bpf_rcu_read_lock"),
    BPF_RCU_READ_UNLOCK("bpf_rcu_read_unlock"),
    BPF_ITER_NUM_NEW("bpf_iter_num_new"),
    BPF_ITER_NUM_NEXT("bpf_iter_num_next"),
    BPF_ITER_NUM_DESTROY("bpf_iter_num_destroy");

    final String kname;
    final String alias;

    Kfunc(String kname) {
        this(kname, null);
    }

    Kfunc(String kname, String alias) {
        this.kname = kname;
        this.alias = alias;
    }

    static final Kfunc[] VALUES = values();
    private static final Map<String, Kfunc> BY_NAME = new HashMap<>();

    static {
        for (Kfunc k : VALUES) {
            BY_NAME.put(k.kname, k);
            if (k.alias != null) {
                BY_NAME.put(k.alias, k);
            }
        }
    }

    /** The kfunc a (flavour-stripped) extern names, or null when the emulator has none. */
    static Kfunc byName(String name) {
        return BY_NAME.get(stripFlavour(name));
    }

    /** {@code scx_bpf_dispatch___compat} and {@code ..._v2___compat} name {@code scx_bpf_dispatch}. */
    static String stripFlavour(String name) {
        int i = name.indexOf("___");
        return i > 0 ? name.substring(0, i) : name;
    }
}
