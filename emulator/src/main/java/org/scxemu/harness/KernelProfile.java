package org.scxemu.harness;

import java.util.ArrayList;
import java.util.List;

/**
 * The kernel profiles a run may select with {@code --kernel}: which kernel version's sched_ext
 * behaviour the emulated core follows where versions differ. This build has one, the seed's.
 */
public enum KernelProfile {
    V7("v7", "the seed's June 2024 sched_ext series: pnt_seq release-stored on every pick, cpu_release from "
            + "scx_next_task_picked(), cpu_acquire from balance_scx(); 6.12 where v7 is silent (default)");

    /** The profile {@code --kernel} selects when none is named. */
    public static final KernelProfile DEFAULT = V7;

    /** The name {@code --kernel} takes and the JSON's {@code kernel_profile}. */
    public final String id;
    /** One line for {@code scx-emu list}. */
    public final String description;

    KernelProfile(String id, String description) {
        this.id = id;
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
