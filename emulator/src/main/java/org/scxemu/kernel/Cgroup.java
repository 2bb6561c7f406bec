// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

/**
 * A cgroup of the cpu controller as a scheduler sees it (the kernel's {@code struct cgroup}):
 * its id, its parent and its {@code cpu.weight}. What {@code scx_bpf_task_cgroup()} returns.
 *
 * <p>The minimal shape the kfunc needs; the cgroup hierarchy (creation, moves, the cgroup ops)
 * belongs to the hierarchy's own code, which keeps these members and adds to them.
 *
 * <p>Threads: {@code id}, {@code parent}, {@code name} and {@code level} are final; {@code weight}
 * is written by whoever changes cpu.weight and read racily by schedulers (volatile), as BPF reads
 * {@code tg->scx_weight}.
 */
public final class Cgroup {
    /** CGROUP_WEIGHT_DFL */
    public static final int CGROUP_WEIGHT_DFL = 100;

    public final long id;
    /** null for the root. */
    public final Cgroup parent;
    /** The last path component; empty for the root. */
    public final String name;
    public final int level;

    volatile int weight = CGROUP_WEIGHT_DFL;

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

    /** cpu.weight: 1..10000, 100 by default. */
    public int weight() {
        return weight;
    }

    @Override
    public String toString() {
        return (parent == null ? "/" : name) + "[" + id + "]";
    }
}
