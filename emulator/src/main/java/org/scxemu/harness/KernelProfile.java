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
    V7("v7", CoreProfile.V7, "the seed's June 2024 series: pnt_seq release-stored on every pick, cpu_release "
            + "from scx_next_task_picked(), cpu_acquire from balance_scx(); 6.12 where v7 is silent (default)"),
    V6_12("6.12", CoreProfile.V6_12, "cpu_release and the pnt_seq bump move into switch_class(), reached only "
            + "when an ext task makes way for a non-ext one (SCX_KICK_WAIT can wait for ever; cpu_released can "
            + "stay false under an RT task)"),
    V6_16("6.16", CoreProfile.V6_16, "6.12's protocol with the scx_ops_cpu_preempt static key replaced by the "
            + "SCX_OPS_HAS_CPU_PREEMPT ops-flag test"),
    V6_19("6.19", CoreProfile.V6_19, "SCX_KICK_WAIT fixed: kick_sync bumped in put_prev/pick, waits only for an "
            + "ext task; cpu_acquire/release deprecated (warning at load), release still from switch_class()");

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
