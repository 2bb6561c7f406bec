// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.scxemu.kernel.ScxConsts.EBUSY;
import static org.scxemu.kernel.ScxConsts.EINVAL;
import static org.scxemu.kernel.ScxConsts.ENOENT;
import static org.scxemu.kernel.ScxConsts.ESRCH;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The cpu controller's cgroup hierarchy, as far as scheduling sees it: mkdir and rmdir of a group
 * (css online/offline), writing {@code cpu.weight}, and moving tasks between groups (writing
 * {@code cgroup.procs}: can_attach, attach, cancel_attach). Each operation calls sched_ext's hooks
 * ({@link ExtCgroup}) where core.c does. Ids are never reused; the root is id 0, path {@code /}.
 *
 * <p>A task forked with {@code TaskSpec.cgroup(id)} keeps that id; an id that names no live group
 * (the older workloads' bare ids) stands for the root in {@link #of}, as the kernel's
 * task_group() falls back. Fork into a group made here with {@code cgroup(group.id())}.
 *
 * <p>Threads: any thread holding no kernel lock may call the public methods; they serialise on
 * {@code mutex} (cgroup_mutex). A group's children list is changed under the mutex and its own
 * monitor, which the sched_ext enable and disable walks take instead of the mutex. The id map is
 * a ConcurrentHashMap so {@link #of} may be called
 * from anywhere, including under an rq lock (a lookup, never a creation).
 */
public final class Cgroups {
    private final Kernel kernel;
    /** cgroup_mutex: every change to the hierarchy, weights and memberships. */
    private final ReentrantLock mutex = new ReentrantLock();
    private final Cgroup root = new Cgroup(0, null, "");
    private final ConcurrentHashMap<Long, Cgroup> byId = new ConcurrentHashMap<>();
    /** The next fresh id; cgroup mutex. */
    private long nextId = 1;

    Cgroups(Kernel kernel) {
        this.kernel = kernel;
        root.scxFlags = Cgroup.SCX_TG_ONLINE;
        byId.put(0L, root);
    }

    public Cgroup root() {
        return root;
    }

    /** The group with this id, or null. */
    public Cgroup byId(long id) {
        return byId.get(id);
    }

    /** task_group(p): the task's group (the root if its id names no live group). */
    public Cgroup of(Task p) {
        Cgroup c = byId.get(p.cgroupId);
        return c != null ? c : root;
    }

    /** The live group at {@code path} ({@code /}, {@code /a/b}), or null. */
    public Cgroup lookup(String path) {
        mutex.lock();
        try {
            return lookupLocked(path);
        } finally {
            mutex.unlock();
        }
    }

    private Cgroup lookupLocked(String path) {
        Cgroup c = root;
        for (String part : split(path)) {
            c = childNamed(c, part);
            if (c == null) {
                return null;
            }
        }
        return c;
    }

    /** The child of {@code c} named {@code name}, or null; cgroup mutex held. */
    private static Cgroup childNamed(Cgroup c, String name) {
        for (Cgroup ch : c.children) {
            if (ch.name.equals(name)) {
                return ch;
            }
        }
        return null;
    }

    private static List<String> split(String path) {
        List<String> l = new ArrayList<>();
        if (path == null || !path.startsWith("/")) {
            throw new IllegalArgumentException("a cgroup path starts with /: " + path);
        }
        for (String s : path.split("/")) {
            if (!s.isEmpty()) {
                l.add(s);
            }
        }
        return l;
    }

    /**
     * mkdir -p: makes every missing group of {@code path} (each goes online: sched_ext's
     * cgroup_init when a scheduler is loaded).
     *
     * @return the group, or null if a cgroup_init refused a new group (the mkdir failed)
     */
    public Cgroup mkdirP(String path) {
        mutex.lock();
        try {
            Cgroup c = root;
            for (String part : split(path)) {
                Cgroup next = childNamed(c, part);
                if (next == null) {
                    next = createLocked(c, part, nextId++);
                    if (next == null) {
                        return null;
                    }
                }
                c = next;
            }
            return c;
        } finally {
            mutex.unlock();
        }
    }

    /** cpu_cgroup_css_alloc() + css_online(): a new child of {@code parent}; null if refused. */
    private Cgroup createLocked(Cgroup parent, String name, long id) {
        if (name.isEmpty() || name.contains("/")) {
            throw new IllegalArgumentException("bad cgroup name: " + name);
        }
        Cgroup c = new Cgroup(id, parent, name);
        // In the tree before it goes online, as a css is: the enable walk either sees it online
        // (and inits it) or not yet (and scx_tg_online() inits it, seeing sched_ext enabled).
        synchronized (parent.children) {
            parent.children.add(c);
        }
        byId.put(id, c);
        // cpu_cgroup_css_online(): scx_tg_online()
        if (kernel.ext.cgroup.scxTgOnline(c) != 0) {
            synchronized (parent.children) {
                parent.children.remove(c);
            }
            byId.remove(id);
            c.removed = true;
            return null;
        }
        return c;
    }

    /**
     * rmdir: a group with tasks or children is busy.
     *
     * @return 0, -ENOENT, or -EBUSY (also for the root)
     */
    public int rmdir(String path) {
        mutex.lock();
        try {
            Cgroup c = lookupLocked(path);
            if (c == null) {
                return -ENOENT;
            }
            if (c == root || !c.children.isEmpty()) {
                return -EBUSY;
            }
            for (Task p : kernel.tasks()) {
                if (!p.isDead() && p.cgroupId == c.id) {
                    return -EBUSY;
                }
            }
            // css_offline(): cpu_cgroup_css_offline() -> scx_tg_offline()
            kernel.ext.cgroup.scxTgOffline(c);
            synchronized (c.parent.children) {
                c.parent.children.remove(c);
            }
            byId.remove(c.id);
            c.removed = true;
            return 0;
        } finally {
            mutex.unlock();
        }
    }

    /**
     * Writing {@code cpu.weight}: sched_ext's cgroup_set_weight (core.c cpu_weight_write_u64()).
     *
     * @return 0, or -EINVAL for a weight outside 1..10000 or the root (it has no cpu.weight)
     */
    public int setWeight(Cgroup c, int weight) {
        if (weight < Cgroup.CGROUP_WEIGHT_MIN || weight > Cgroup.CGROUP_WEIGHT_MAX || c == null || c == root) {
            return -EINVAL;
        }
        mutex.lock();
        try {
            if (c.removed) {
                return -ENOENT;
            }
            kernel.ext.cgroup.scxGroupSetWeight(c, weight);
            return 0;
        } finally {
            mutex.unlock();
        }
    }

    /** Moves one task: {@link #attach(List, Cgroup)} of a one-task set. */
    public int attach(Task p, Cgroup to) {
        return attach(List.of(p), to);
    }

    /**
     * cgroup_migrate() of a task set into {@code to} with the cpu controller's callbacks:
     * cpu_cgroup_can_attach() (sched_ext's prep_move for each task that changes group),
     * cpu_cgroup_attach() (sched_move_task() for each: the task leaves and re-enters its class
     * with the new group; sched_ext's cgroup_move), then the finish.
     *
     * @return 0; -ENOENT if {@code to} was removed; -ESRCH if a task has exited; or the error a
     *     prep_move returned (nothing moved, earlier tasks got cgroup_cancel_move)
     */
    public int attach(List<Task> tasks, Cgroup to) {
        mutex.lock();
        try {
            if (to == null || to.removed) {
                return -ENOENT;
            }
            for (Task p : tasks) {
                if (p.isDead() || p.scx.freed) {
                    return -ESRCH;
                }
            }
            ExtCgroup scx = kernel.ext.cgroup;
            int ret = scx.scxCgroupCanAttach(tasks, to);
            if (ret != 0) {
                return ret;
            }
            try {
                for (Task p : tasks) {
                    schedMoveTask(p, to);
                }
            } finally {
                scx.scxCgroupFinishAttach();
            }
            return 0;
        } finally {
            mutex.unlock();
        }
    }

    /** core.c: sched_move_task(): the sched_change pattern around the group change. */
    private void schedMoveTask(Task p, Cgroup to) {
        Rq rq = kernel.taskRqLock(p);
        try {
            boolean queued = p.laOnRq() == Task.TASK_ON_RQ_QUEUED;
            boolean running = rq.curr == p;
            int flags = Kernel.DEQUEUE_SAVE | Kernel.DEQUEUE_MOVE | Kernel.DEQUEUE_NOCLOCK;
            if (queued) {
                kernel.dequeueTask(rq, p, flags);
            }
            if (running) {
                kernel.putPrevTask(rq, p);
            }
            // sched_change_group()
            p.cgroupId = to.id;
            kernel.ext.cgroup.scxCgroupMoveTask(p);
            if (queued) {
                kernel.enqueueTask(rq, p, flags);
            }
            if (running) {
                kernel.setNextTask(rq, p);
                kernel.reschedCurr(rq);
            }
        } finally {
            kernel.taskRqUnlock(rq, p);
        }
    }
}
