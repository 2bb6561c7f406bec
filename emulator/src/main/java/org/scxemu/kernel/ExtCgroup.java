// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.scxemu.kernel.ScxConsts.*;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.scxemu.scx.SchedExtOps.CgroupInitArgs;

/**
 * sched_ext's cgroup support, as 6.12 has it (CONFIG_EXT_GROUP_SCHED): the hooks {@link Cgroups}
 * calls when a group goes online or offline, when tasks move, when {@code cpu.weight} changes,
 * and the walks over every group at enable and disable. The v7 profile has no cgroup support (the
 * v7 series came before it): there the hooks only keep the group flags and no cgroup op is called.
 *
 * <p>Threads: {@code rwsem} is scx_cgroup_rwsem: the enable and disable walks hold it for writing;
 * the hooks for reading (an attach holds it from can_attach to finish/cancel). {@code enabled}
 * (scx_cgroup_enabled) and the groups' {@code scxFlags} are written under it for writing or, by
 * a hook, under it for reading plus the cgroup mutex; {@code enabled} is volatile for the racy
 * read in a move.
 */
final class ExtCgroup {
    private final Ext ext;
    /** scx_cgroup_rwsem */
    final ReentrantReadWriteLock rwsem = new ReentrantReadWriteLock();
    /** scx_cgroup_enabled */
    private volatile boolean enabled;
    /** cgroup_warned_missing_weight; rwsem. */
    private boolean warnedMissingWeight;

    ExtCgroup(Ext ext) {
        this.ext = ext;
    }

    /** Whether this profile's kernel has sched_ext cgroup support (6.12 and later). */
    static boolean groupSched(Kernel k) {
        return k.profile() != CoreProfile.V7;
    }

    private boolean hasOp(ScxOp op) {
        return ScxKeys.hasOp(op).enabled();
    }

    /** ext.c: scx_cgroup_warn_missing_weight() */
    private void warnMissingWeight(Cgroup c) {
        if (ext.enableState() == Ext.SCX_OPS_DISABLED || warnedMissingWeight) {
            return;
        }
        if ((ext.opsFlags & SCX_OPS_HAS_CGROUP_WEIGHT) != 0 || c.parent == null) {
            return;
        }
        ext.klog(String.format("sched_ext: \"%s\" does not implement cgroup cpu.weight", ext.ops.name()));
        warnedMissingWeight = true;
    }

    /** ext.c: scx_tg_online(): a new group; 0 or the errno a refusing cgroup_init gave. */
    int scxTgOnline(Cgroup c) {
        int ret = 0;
        rwsem.readLock().lock();
        try {
            if (groupSched(ext.kernel)) {
                warnMissingWeight(c);
            }
            if (enabled) {
                if (hasOp(ScxOp.CGROUP_INIT)) {
                    CgroupInitArgs args = new CgroupInitArgs(c.weight);
                    ret = (int) ext.callSlowOp(ScxOp.CGROUP_INIT, ext.unlockedMask(), null, null, 0,
                            o -> o.cgroupInit(c, args));
                    if (ret != 0) {
                        ret = ext.opsSanitizeErr("cgroup_init", ret);
                    }
                }
                if (ret == 0) {
                    c.scxFlags |= Cgroup.SCX_TG_ONLINE | Cgroup.SCX_TG_INITED;
                }
            } else {
                c.scxFlags |= Cgroup.SCX_TG_ONLINE;
            }
        } finally {
            rwsem.readLock().unlock();
        }
        return ret;
    }

    /** ext.c: scx_tg_offline() */
    void scxTgOffline(Cgroup c) {
        rwsem.readLock().lock();
        try {
            if (hasOp(ScxOp.CGROUP_EXIT) && (c.scxFlags & Cgroup.SCX_TG_INITED) != 0) {
                ext.callSlowOp(ScxOp.CGROUP_EXIT, ext.unlockedMask(), null, null, 0, o -> {
                    o.cgroupExit(c);
                    return 0;
                });
            }
            c.scxFlags &= ~(Cgroup.SCX_TG_ONLINE | Cgroup.SCX_TG_INITED);
        } finally {
            rwsem.readLock().unlock();
        }
    }

    /**
     * ext.c: scx_cgroup_can_attach(): prep_move for each task that changes group. On success the
     * rwsem stays read-held until {@link #scxCgroupFinishAttach}; on failure the tasks already
     * prepared get cancel_move and the rwsem is released.
     */
    int scxCgroupCanAttach(List<Task> tasks, Cgroup to) {
        rwsem.readLock().lock();
        if (!enabled) {
            return 0;
        }
        Cgroups cgroups = ext.kernel.cgroups;
        int ret = 0;
        for (Task p : tasks) {
            Cgroup from = cgroups.of(p);
            if (p.scx.cgrpMovingFrom != null) {
                throw new KernelBug("cgrp_moving_from already set for " + p);
            }
            // an identity move is skipped, as sched_move_task() does: prep_move and move pair up
            if (from == to) {
                continue;
            }
            if (hasOp(ScxOp.CGROUP_PREP_MOVE)) {
                ret = (int) ext.callSlowOp(ScxOp.CGROUP_PREP_MOVE, ext.unlockedMask(), p, null, 0,
                        o -> o.cgroupPrepMove(p, from, to));
                if (ret != 0) {
                    break;
                }
            }
            p.scx.cgrpMovingFrom = from;
        }
        if (ret == 0) {
            return 0;
        }
        cancelMoves(tasks, to);
        rwsem.readLock().unlock();
        return ext.opsSanitizeErr("cgroup_prep_move", ret);
    }

    private void cancelMoves(List<Task> tasks, Cgroup to) {
        for (Task p : tasks) {
            Cgroup from = p.scx.cgrpMovingFrom;
            if (hasOp(ScxOp.CGROUP_CANCEL_MOVE) && from != null) {
                ext.callSlowOp(ScxOp.CGROUP_CANCEL_MOVE, ext.unlockedMask(), p, null, 0, o -> {
                    o.cgroupCancelMove(p, from, to);
                    return 0;
                });
            }
            p.scx.cgrpMovingFrom = null;
        }
    }

    /** ext.c: scx_cgroup_move_task(): the task's rq lock held, its new group already set. */
    void scxCgroupMoveTask(Task p) {
        if (!enabled) {
            return;
        }
        Cgroup from = p.scx.cgrpMovingFrom;
        if (hasOp(ScxOp.CGROUP_MOVE) && from != null) {
            Cgroup to = ext.kernel.cgroups.of(p);
            ext.callSlowOp(ScxOp.CGROUP_MOVE, ext.unlockedMask(), p, null, 0, o -> {
                o.cgroupMove(p, from, to);
                return 0;
            });
        }
        p.scx.cgrpMovingFrom = null;
    }

    /** ext.c: scx_cgroup_finish_attach() */
    void scxCgroupFinishAttach() {
        rwsem.readLock().unlock();
    }

    /** ext.c: scx_cgroup_cancel_attach(): another controller refused the move after ours agreed. */
    void scxCgroupCancelAttach(List<Task> tasks, Cgroup to) {
        if (enabled) {
            cancelMoves(tasks, to);
        }
        rwsem.readLock().unlock();
    }

    /** ext.c: scx_group_set_weight(); cgroup mutex held. */
    void scxGroupSetWeight(Cgroup c, int weight) {
        rwsem.readLock().lock();
        try {
            if (enabled && hasOp(ScxOp.CGROUP_SET_WEIGHT) && c.weight != weight) {
                ext.callSlowOp(ScxOp.CGROUP_SET_WEIGHT, ext.unlockedMask(), null, null, 0, o -> {
                    o.cgroupSetWeight(c, weight);
                    return 0;
                });
            }
            c.weight = weight;
        } finally {
            rwsem.readLock().unlock();
        }
    }

    /** Every live group, parents before children (css_for_each_descendant_pre()). */
    private List<Cgroup> preOrder() {
        List<Cgroup> out = new ArrayList<>();
        List<Cgroup> stack = new ArrayList<>();
        stack.add(ext.kernel.cgroups.root());
        while (!stack.isEmpty()) {
            Cgroup c = stack.remove(stack.size() - 1);
            out.add(c);
            synchronized (c.children) {
                for (int i = c.children.size() - 1; i >= 0; i--) {
                    stack.add(c.children.get(i));
                }
            }
        }
        return out;
    }

    /**
     * ext.c: scx_cgroup_init(), in scx_ops_enable() with the rwsem write-held by the caller
     * ({@link #lockAndInit}): cgroup_init for every online group, parents first.
     *
     * @return 0, or the errno of a refusing cgroup_init (the scheduler is already being ejected)
     */
    private int scxCgroupInit() {
        warnedMissingWeight = false;
        if (!groupSched(ext.kernel)) {
            return 0;
        }
        for (Cgroup c : preOrder()) {
            warnMissingWeight(c);
            if ((c.scxFlags & (Cgroup.SCX_TG_ONLINE | Cgroup.SCX_TG_INITED)) != Cgroup.SCX_TG_ONLINE) {
                continue;
            }
            if (!hasOp(ScxOp.CGROUP_INIT)) {
                c.scxFlags |= Cgroup.SCX_TG_INITED;
                continue;
            }
            CgroupInitArgs args = new CgroupInitArgs(c.weight);
            int ret = (int) ext.callSlowOp(ScxOp.CGROUP_INIT, ext.unlockedMask(), null, null, 0,
                    o -> o.cgroupInit(c, args));
            if (ret != 0) {
                ext.scxOpsError("ops.cgroup_init() failed (%d)", ret);
                return ret;
            }
            c.scxFlags |= Cgroup.SCX_TG_INITED;
        }
        enabled = true;
        return 0;
    }

    /**
     * scx_cgroup_lock() + scx_cgroup_init() in scx_ops_enable(): the rwsem stays write-held
     * (cgroup changes and moves locked out while the tasks are initialised) until {@link #unlock}.
     *
     * @return false if a cgroup_init refused (the scheduler is being ejected; still unlock)
     */
    boolean lockAndInit() {
        rwsem.writeLock().lock();
        return scxCgroupInit() == 0;
    }

    /** scx_cgroup_unlock() after {@link #lockAndInit}; a no-op if this thread does not hold it. */
    void unlock() {
        if (rwsem.isWriteLockedByCurrentThread()) {
            rwsem.writeLock().unlock();
        }
    }

    /**
     * ext.c: scx_cgroup_exit() under scx_cgroup_lock(), in the disable work before the tasks
     * leave: cgroup_exit for every initialised group, children first.
     */
    void lockAndExit() {
        rwsem.writeLock().lock();
        try {
            enabled = false;
            List<Cgroup> order = preOrder();
            for (int i = order.size() - 1; i >= 0; i--) {
                Cgroup c = order.get(i);
                if ((c.scxFlags & Cgroup.SCX_TG_INITED) == 0) {
                    continue;
                }
                c.scxFlags &= ~Cgroup.SCX_TG_INITED;
                if (!hasOp(ScxOp.CGROUP_EXIT)) {
                    continue;
                }
                ext.callSlowOp(ScxOp.CGROUP_EXIT, ext.unlockedMask(), null, null, 0, o -> {
                    o.cgroupExit(c);
                    return 0;
                });
            }
        } finally {
            rwsem.writeLock().unlock();
        }
    }

    /** The cgroup of {@code p} for ops.init_task()'s args (null without cgroup support). */
    Cgroup initTaskCgroup(Task p) {
        return groupSched(ext.kernel) ? ext.kernel.cgroups.of(p) : null;
    }
}
