// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * {@code struct task_struct}: the parts of it the scheduler core and sched_ext use, plus the
 * emulator's {@link Behavior} (what the task does when it runs).
 *
 * <p>Guards:
 * <ul>
 *   <li>{@code state} ({@code __state}): written by the task itself (on its CPU thread) or by a
 *       waker under {@code piLock}; accessed with acquire/release, as ttwu does;
 *   <li>{@code onRq}: written under the rq lock, read by wakers with acquire
 *       ({@code smp_load_acquire(&p->on_rq)});
 *   <li>{@code onCpu}: release-stored by the CPU that switches the task out (finish_task()),
 *       acquire-loaded by a waker that must wait for the switch to finish
 *       ({@code smp_cond_load_acquire(&p->on_cpu, !VAL)});
 *   <li>{@code cpu} ({@code task_cpu()}): written under the rq lock(s) by set_task_cpu(), read
 *       opaquely anywhere;
 *   <li>{@code schedClass}, {@code policy}, {@code cpusAllowed}, the class run-list links and the
 *       runtime accounting: the rq lock of the task's rq (class and mask changes also hold
 *       {@code piLock}); {@code cpusAllowed} is also read racily without it (consume, select_cpu),
 *       which is safe because a {@link CpuMask} is immutable: a racy reader sees the old or the
 *       new mask, never a mix;
 *   <li>the behaviour state ({@code step}, {@code phaseLeftNs}): the CPU thread currently running
 *       the task, or the waker before the task first runs.
 * </ul>
 */
public final class Task {
    /* task_struct::__state */
    public static final int TASK_RUNNING = 0x0000;
    public static final int TASK_INTERRUPTIBLE = 0x0001;
    public static final int TASK_DEAD = 0x0080;

    /* p->on_rq */
    static final int TASK_ON_RQ_QUEUED = 1;
    static final int TASK_ON_RQ_MIGRATING = 2;

    /* policies (uapi/linux/sched.h) */
    public static final int SCHED_NORMAL = 0;
    public static final int SCHED_FIFO = 1;
    public static final int SCHED_RR = 2;
    public static final int SCHED_BATCH = 3;
    public static final int SCHED_IDLE = 5;
    public static final int SCHED_DEADLINE = 6;
    public static final int SCHED_EXT = 7;

    /* p->flags */
    public static final int PF_IDLE = 0x00000002;
    public static final int PF_EXITING = 0x00000004;
    public static final int PF_KTHREAD = 0x00200000;

    /* wake flags (core) */
    static final int WF_EXEC = 0x02;
    static final int WF_FORK = 0x04;
    static final int WF_TTWU = 0x08;
    static final int WF_SYNC = 0x10;

    /** sched_prio_to_weight[], nice -20 .. 19. */
    static final int[] SCHED_PRIO_TO_WEIGHT = {
        88761, 71755, 56483, 46273, 36291,
        29154, 23254, 18705, 14949, 11916,
        9548, 7620, 6100, 4904, 3906,
        3121, 2501, 1991, 1586, 1277,
        1024, 820, 655, 526, 423,
        335, 272, 215, 172, 137,
        110, 87, 70, 56, 45,
        36, 29, 23, 18, 15,
    };

    public final int pid;
    public final String comm;
    final RacePointLock piLock = new RacePointLock();

    /** p->flags (PF_*): written by the task itself or at creation. */
    volatile int pflags;
    int policy;
    /** true for the per-CPU stopper: class STOP regardless of policy. */
    final boolean stopper;
    int nice;
    /** p->sched_class; see the class comment. */
    SchedClass schedClass;
    CpuMask cpusAllowed;
    /** cgroup id (task groups), 0 for the root group. */
    volatile long cgroupId;
    /**
     * p->migration_pending: an affinity change left the task running on a CPU outside its mask
     * and a migration stop work is queued for it ({@link Kernel#setCpusAllowedPtr}). Written
     * under {@code piLock} and the task's rq lock; read racily by observers (invariant checks):
     * volatile.
     */
    volatile boolean migrationPending;

    @SuppressWarnings("unused")
    private volatile int state;
    @SuppressWarnings("unused")
    private volatile int onRq;
    @SuppressWarnings("unused")
    private volatile boolean onCpu;
    @SuppressWarnings("unused")
    private volatile int cpu;

    /** Class run-list (stop/dl/rt/fair FIFO) links; rq lock. */
    Task runPrev;
    Task runNext;
    boolean onRunList;
    /** The task is queued on its simple class (se->on_rq / rt_se on_rq); rq lock. */
    boolean simpleQueued;
    /** put_prev for a simple class: true when the task yielded or used up its fair slice. */
    boolean requeueTail;

    /** se.sum_exec_runtime and exec_start; rq lock. */
    long sumExecRuntime;
    long execStart;
    /** Start of the current fair round-robin slice; rq lock. */
    long fairSliceStart;
    long nrSwitches;

    /** p->scx */
    public final SchedExtEntity scx = new SchedExtEntity();

    // --- emulator: behaviour and metrics --------------------------------------------------------
    final Behavior behavior;
    /** Remaining ns of the current run phase; owned by the running CPU thread. */
    long phaseLeftNs;
    /** The behaviour has been asked for its first step. */
    boolean started;
    final Step step = new Step();
    /** Sleep timer (hrtimer for the task's sleep). */
    final Timer sleepTimer;
    /** When the task last became runnable (for wait latency); rq lock of its rq. */
    long runnableSince = -1;
    /** Since when the task sits on a local DSQ of a CPU taken by a higher class, or -1. */
    long strandedSince = -1;
    /** Metrics: total ns spent runnable but not running. */
    long waitNs;
    /** Arbitrary workload attachment (e.g. a mailbox). */
    public volatile Object workloadData;

    Task(int pid, String comm, int policy, int nice, boolean stopper, CpuMask allowed,
            Behavior behavior, int pflags) {
        this.pid = pid;
        this.comm = comm;
        this.policy = policy;
        this.nice = nice;
        this.stopper = stopper;
        this.cpusAllowed = allowed;
        this.behavior = behavior;
        this.pflags = pflags;
        this.scx.weight = scxWeight(nice, policy);
        this.sleepTimer = new Timer("sleep:" + comm) {
            @Override
            void fire(Kernel k) {
                k.tryToWakeUp(Task.this, 0);
            }
        };
    }

    /** sched_weight_to_cgroup(): nice 0 is 100, clamped to 1..10000. */
    static int scxWeight(int nice, int policy) {
        int w = policy == SCHED_IDLE ? 3 : SCHED_PRIO_TO_WEIGHT[nice + 20];
        long cg = (w * 100L + 512) / 1024;
        return (int) Math.max(1, Math.min(10000, cg));
    }

    // --- public read-only views (schedulers, tests, workloads) ---------------------------------

    /** The task's scheduling class (racy outside the rq lock). */
    public SchedClass schedClass() {
        return schedClass;
    }

    public int policy() {
        return policy;
    }

    public int nice() {
        return nice;
    }

    /** p->cpus_ptr */
    public CpuMask cpusPtr() {
        return cpusAllowed;
    }

    /**
     * Whether an affinity change is still waiting for the migration stopper to move the task off a
     * CPU its mask no longer allows (racy outside the task's rq lock).
     */
    public boolean migrationPending() {
        return migrationPending;
    }

    /** p->nr_cpus_allowed */
    public int nrCpusAllowed() {
        return cpusAllowed.weight();
    }

    /** p->flags */
    public int flags() {
        return pflags;
    }

    public long cgroupId() {
        return cgroupId;
    }

    public void setCgroupId(long id) {
        cgroupId = id;
    }

    /** task_cpu(p) */
    public int cpu() {
        return readOnceCpu();
    }

    public int state() {
        return laState();
    }

    public boolean isDead() {
        return laState() == TASK_DEAD;
    }

    /** se.sum_exec_runtime (racy). */
    public long sumExecRuntime() {
        return sumExecRuntime;
    }

    /** Total ns spent waiting while runnable (racy). */
    public long waitNs() {
        return waitNs;
    }

    public long nrSwitches() {
        return nrSwitches;
    }

    // --- accessors --------------------------------------------------------------------------------

    /** READ_ONCE(p->__state) with acquire; pairs with {@link #soState}. */
    int laState() {
        return (int) STATE.getAcquire(this);
    }

    /** smp_store_release(&p->__state): ttwu's and set_current_state()'s store. */
    void soState(int s) {
        STATE.setRelease(this, s);
    }

    /** set_current_state(): a full barrier after the store, as the kernel's smp_store_mb(). */
    void svState(int s) {
        STATE.setVolatile(this, s);
    }

    /** smp_load_acquire(&p->on_rq); pairs with {@link #soOnRq}. */
    int laOnRq() {
        return (int) ON_RQ.getAcquire(this);
    }

    /** Store to p->on_rq under the rq lock; release so lock-free readers see a complete task. */
    void soOnRq(int v) {
        ON_RQ.setRelease(this, v);
    }

    /** smp_cond_load_acquire(&p->on_cpu, !VAL)'s load; pairs with {@link #soOnCpu}. */
    boolean laOnCpu() {
        return (boolean) ON_CPU.getAcquire(this);
    }

    /** finish_task(): smp_store_release(&prev->on_cpu, 0). */
    void soOnCpu(boolean v) {
        ON_CPU.setRelease(this, v);
    }

    int readOnceCpu() {
        return (int) CPU.getOpaque(this);
    }

    /** set_task_cpu(): under the rq lock(s). */
    void writeOnceCpu(int c) {
        CPU.setOpaque(this, c);
    }

    @Override
    public String toString() {
        return comm + "[" + pid + "]";
    }

    // VarHandle mechanics
    private static final VarHandle STATE;
    private static final VarHandle ON_RQ;
    private static final VarHandle ON_CPU;
    private static final VarHandle CPU;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(Task.class, "state", int.class);
            ON_RQ = l.findVarHandle(Task.class, "onRq", int.class);
            ON_CPU = l.findVarHandle(Task.class, "onCpu", boolean.class);
            CPU = l.findVarHandle(Task.class, "cpu", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
