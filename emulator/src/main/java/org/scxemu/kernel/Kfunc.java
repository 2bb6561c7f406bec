// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

/**
 * The kfuncs, counted per call; {@code kname} is the kernel name without {@code scx_bpf_} (the
 * iterator kfuncs, which have no such prefix, keep their whole name).
 *
 * <p>{@code since} is the first core profile whose kernel has the kfunc: the v7 series had the
 * seed's set; 6.12 added the DSQ iterator, the {@code dispatch_from_dsq} family, cpuperf,
 * {@code scx_bpf_task_cgroup()} and {@code scx_bpf_cpu_rq()}; 6.13 added the
 * {@code scx_bpf_dsq_insert} / {@code scx_bpf_dsq_move} spellings, so among the profiles they
 * start at 6.16. A kfunc called under a profile before its {@code since} is refused.
 */
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
    CPU_RQ("cpu_rq", CoreProfile.V6_12),
    // the v7 cpumask kfuncs
    GET_IDLE_SMTMASK("get_idle_smtmask"),
    PUT_IDLE_CPUMASK("put_idle_cpumask"),
    GET_POSSIBLE_CPUMASK("get_possible_cpumask"),
    GET_ONLINE_CPUMASK("get_online_cpumask"),
    PUT_CPUMASK("put_cpumask"),
    // 6.12
    DISPATCH_FROM_DSQ_SET_SLICE("dispatch_from_dsq_set_slice", CoreProfile.V6_12),
    DISPATCH_FROM_DSQ_SET_VTIME("dispatch_from_dsq_set_vtime", CoreProfile.V6_12),
    DISPATCH_FROM_DSQ("dispatch_from_dsq", CoreProfile.V6_12),
    DISPATCH_VTIME_FROM_DSQ("dispatch_vtime_from_dsq", CoreProfile.V6_12),
    ITER_SCX_DSQ_NEW("bpf_iter_scx_dsq_new", CoreProfile.V6_12),
    ITER_SCX_DSQ_NEXT("bpf_iter_scx_dsq_next", CoreProfile.V6_12),
    ITER_SCX_DSQ_DESTROY("bpf_iter_scx_dsq_destroy", CoreProfile.V6_12),
    CPUPERF_CAP("cpuperf_cap", CoreProfile.V6_12),
    CPUPERF_CUR("cpuperf_cur", CoreProfile.V6_12),
    CPUPERF_SET("cpuperf_set", CoreProfile.V6_12),
    TASK_CGROUP("task_cgroup", CoreProfile.V6_12),
    // 6.13's names (first profile: 6.16)
    DSQ_INSERT("dsq_insert", CoreProfile.V6_16),
    DSQ_INSERT_VTIME("dsq_insert_vtime", CoreProfile.V6_16),
    DSQ_MOVE_TO_LOCAL("dsq_move_to_local", CoreProfile.V6_16),
    DSQ_MOVE_SET_SLICE("dsq_move_set_slice", CoreProfile.V6_16),
    DSQ_MOVE_SET_VTIME("dsq_move_set_vtime", CoreProfile.V6_16),
    DSQ_MOVE("dsq_move", CoreProfile.V6_16),
    DSQ_MOVE_VTIME("dsq_move_vtime", CoreProfile.V6_16);

    public static final int COUNT = values().length;
    private static final Kfunc[] VALUES = values();

    public final String kname;
    /** The first profile whose kernel has this kfunc. */
    public final CoreProfile since;

    Kfunc(String kname) {
        this(kname, CoreProfile.V7);
    }

    Kfunc(String kname, CoreProfile since) {
        this.kname = kname;
        this.since = since;
    }

    public static Kfunc of(int i) {
        return VALUES[i];
    }

    /** The name a BPF object calls it by ({@code scx_bpf_dispatch}, {@code bpf_iter_scx_dsq_new}). */
    public String kernelName() {
        return kname.startsWith("bpf_") ? kname : "scx_bpf_" + kname;
    }

    /** Whether the kernel {@code profile} follows has this kfunc. */
    public boolean existsIn(CoreProfile profile) {
        return profile.ordinal() >= since.ordinal();
    }

    /** The kfunc a BPF object names {@code kernelName} ({@code scx_bpf_...}), or null. */
    public static Kfunc byKernelName(String kernelName) {
        for (Kfunc k : VALUES) {
            if (k.kernelName().equals(kernelName)) {
                return k;
            }
        }
        return null;
    }

    /** How a profile is called on the command line ({@code --kernel}): v7, 6.12, 6.16, 6.19. */
    static String profileName(CoreProfile p) {
        return p == CoreProfile.V7 ? "v7" : p.name().substring(1).replace('_', '.');
    }

    /**
     * The message refusing this kfunc under {@code profile} (null when it exists): a BPF loader
     * refuses the object at load with it, a Java scheduler is ejected with it at the call.
     */
    public String refusal(CoreProfile profile) {
        if (existsIn(profile)) {
            return null;
        }
        return "kfunc " + kernelName() + "() does not exist in kernel " + profileName(profile)
                + " (from " + profileName(since) + ")";
    }
}
