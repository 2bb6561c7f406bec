// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import java.util.ArrayList;
import java.util.List;

/**
 * One cgroup of the cpu controller (the kernel's {@code struct cgroup} with its {@code
 * task_group}): an id, a parent, a level, a name path and the {@code cpu.weight} the scheduler
 * sees. The root has id 0, level 0 and path {@code /} (the emulator's convention for the root
 * group, as {@link Task#cgroupId()} always had). What schedulers receive in the cgroup ops.
 *
 * <p>Threads: {@link #id}, {@link #parent}, {@link #name} and {@link #level} are final. The
 * children list is guarded by {@link Cgroups}' mutex plus its own monitor (the sched_ext walks
 * take only the monitor). {@code scxFlags} is guarded by {@link Cgroups}' mutex (the kernel's {@code
 * cgroup_mutex}) and, for {@code scxFlags}, by {@link ExtCgroup}'s rwsem (written with it held for
 * writing, or for reading with the mutex). {@code weight} is written under the mutex and read
 * racily by anyone (volatile), as BPF reads {@code tg->scx_weight}. {@code removed} is written
 * under the mutex, volatile for racy readers.
 */
public final class Cgroup {
    /** CGROUP_WEIGHT_DFL / _MIN / _MAX */
    public static final int CGROUP_WEIGHT_DFL = 100;
    public static final int CGROUP_WEIGHT_MIN = 1;
    public static final int CGROUP_WEIGHT_MAX = 10000;

    /* tg->scx_flags */
    static final int SCX_TG_ONLINE = 1 << 0;
    static final int SCX_TG_INITED = 1 << 1;

    public final long id;
    /** null for the root. */
    public final Cgroup parent;
    /** The last path component; empty for the root. */
    public final String name;
    public final int level;

    volatile int weight = CGROUP_WEIGHT_DFL;
    int scxFlags;
    volatile boolean removed;
    final List<Cgroup> children = new ArrayList<>();

    Cgroup(long id, Cgroup parent, String name) {
        this.id = id;
        this.parent = parent;
        this.name = name;
        this.level = parent == null ? 0 : parent.level + 1;
    }

    public long id() {
        return id;
    }

    public Cgroup parent() {
        return parent;
    }

    public int level() {
        return level;
    }

    /** cpu.weight (tg->scx_weight): 1..10000, 100 by default. */
    public int weight() {
        return weight;
    }

    /** The path from the root: {@code /} for the root, else {@code /a/b}. */
    public String path() {
        if (parent == null) {
            return "/";
        }
        String pp = parent.path();
        return (pp.equals("/") ? "" : pp) + "/" + name;
    }

    /** Whether {@code this} is {@code other} or below it (cgroup_is_descendant()). */
    public boolean isDescendantOf(Cgroup other) {
        for (Cgroup c = this; c != null; c = c.parent) {
            if (c == other) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return path() + "[" + id + "]";
    }
}
