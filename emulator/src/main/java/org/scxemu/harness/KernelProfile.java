// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness;

import java.util.ArrayList;
import java.util.List;
import org.scxemu.kernel.CoreProfile;

/**
 * The kernel profiles a run may select with {@code --kernel}: which kernel version's sched_ext
 * behaviour the emulated core follows where versions differ (see {@link CoreProfile}).
 */
public enum KernelProfile {
    V7("v7", CoreProfile.V7, "the seed's June 2024 series (default): v7 pick flow (put_prev before the pick, a kept "
            + "task gets stopping/running again), pnt_seq on every pick, cpu_release from scx_next_task_picked() for "
            + "any higher-class pick, cpu_acquire with kf_mask 0, v7 kf_mask numbers, runnable/quiescent on "
            + "cross-CPU moves, validate_ops/ops.init/init_task failures refuse the load, SCX_DSQ_LOCAL_ON refused "
            + "in direct dispatch; cross-CPU moves use 6.12's one-lock protocol (not v7's double lock)"),
    V6_12("6.12", CoreProfile.V6_12, "6.12's core: pick_task + put_prev_set_next_task (a kept prev gets no "
            + "stopping/running/enqueue), balance_one() keeps a last runnable prev unless SCX_OPS_ENQ_LAST (then "
            + "SCX_ENQ_LAST after idle is picked), idle->idle skips update_idle, cpu_release and pnt_seq in "
            + "switch_class() only (SCX_KICK_WAIT can wait for ever), cpu_acquire with SCX_KF_REST, 6.12 kf_mask "
            + "numbers, idle check in scx_bpf_select_cpu_dfl(), load failures after ENABLING eject; not modelled: "
            + "SCX_DSQ_LOCAL_ON direct dispatch, core scheduling"),
    V6_16("6.16", CoreProfile.V6_16, "6.12's core with one change: the scx_ops_cpu_preempt static key replaced by "
            + "the SCX_OPS_HAS_CPU_PREEMPT ops-flag test; ops flags added after 6.12 are refused at load "
            + "(EOPNOTSUPP, not modelled)"),
    V6_19("6.19", CoreProfile.V6_19, "6.12's core with two changes: SCX_KICK_WAIT fixed (kick_sync bumped in "
            + "put_prev/pick, waits only for an ext task) and cpu_acquire/release deprecated (warning at load; "
            + "release still from switch_class()); ops flags added after 6.12 are refused at load (EOPNOTSUPP)");

    /** The profile {@code --kernel} selects when none is named. */
    public static final KernelProfile DEFAULT = V7;

    /** The name {@code --kernel} takes and the JSON's {@code kernel_profile}. */
    public final String id;
    /** The kernel-side switches. */
    public final CoreProfile core;
    /** One line for {@code scx-emu list}. */
    public final String description;

    KernelProfile(String id, CoreProfile core, String description) {
        this.id = id;
        this.core = core;
        this.description = description;
    }

    /** The profile named {@code id}, or null. */
    public static KernelProfile byId(String id) {
        for (KernelProfile p : values()) {
            if (p.id.equals(id)) {
                return p;
            }
        }
        return null;
    }

    public static List<String> ids() {
        List<String> ids = new ArrayList<>();
        for (KernelProfile p : values()) {
            ids.add(p.id);
        }
        return ids;
    }
}
