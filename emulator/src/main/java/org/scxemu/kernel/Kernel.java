// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.scxemu.kernel.ScxConsts.SCX_RQ_BALANCING;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The emulated machine's scheduler core: core.c's schedule loop, wakeups, ticks, class changes,
 * and the four simple classes above ext (stop, dl, rt, fair: FIFO per class per CPU). The
 * sched_ext class itself is {@link Ext}.
 *
 * <p>Threads: each {@link Rq} is driven by one CPU thread (or stepped by a test) through
 * {@link #cpuLoopOnce}. Wakeups ({@link #tryToWakeUp}) may come from any thread that holds no rq
 * lock. The task list is guarded by {@code tasksLock}; forks hold {@code forkRwsem} for reading,
 * scheduler enable and disable for writing ({@code scx_fork_rwsem}).
 */
public final class Kernel {
    public static final int NR_CPUS_MAX = 256;
    /** lockdep_assert_held() checks; on unless {@code -Dscx.nolockdep=true}. */
    static final boolean LOCKDEP = !Boolean.getBoolean("scx.nolockdep");
    /** HZ = 1000 by default. */
    public static final long TICK_NS_DEFAULT = 1_000_000L;
    /** The fair class's round-robin slice (sysctl_sched_base_slice-like). */
    static final long FAIR_SLICE_NS = 3_000_000L;
    /** RR_TIMESLICE for SCHED_RR, 100 ms. */
    static final long RR_TIMESLICE_NS = 100_000_000L;

    /* enqueue / dequeue flags (core) */
    static final int ENQUEUE_WAKEUP = 0x01;
    static final int ENQUEUE_RESTORE = 0x02;
    static final int ENQUEUE_MOVE = 0x04;
    static final int ENQUEUE_NOCLOCK = 0x08;
    static final int ENQUEUE_HEAD = 0x10;
    static final int ENQUEUE_INITIAL = 0x80;
    static final int DEQUEUE_SLEEP = 0x01;
    static final int DEQUEUE_SAVE = 0x02;
    static final int DEQUEUE_MOVE = 0x04;
    static final int DEQUEUE_NOCLOCK = 0x08;
    /** TASK_WAKING: ttwu owns the task between select_task_rq() and activation. */
    static final int TASK_WAKING = 0x0200;

    public final int nrCpus;
    final Rq[] rqs;
    public final Clock clock;
    public final long tickNs;
    public final Ext ext;
    /** The cpu controller's cgroup hierarchy. */
    public final Cgroups cgroups = new Cgroups(this);
    /** CPU hotplug (cpuN/online). */
    public final Hotplug hotplug = new Hotplug(this);
    final Tracer tracer;
    private final CoreProfile profile;

    private final CopyOnWriteArrayList<ExecCtx> ctxs = new CopyOnWriteArrayList<>();
    /** scx_fork_rwsem */
    final ReentrantReadWriteLock forkRwsem = new ReentrantReadWriteLock();
    /** All live tasks (scx_tasks), in fork order; guarded by itself. */
    private final LinkedHashSet<Task> tasks = new LinkedHashSet<>();
    private final AtomicInteger nextPid = new AtomicInteger(1);
    /** pid -&gt; live task (find_task_by_pid_ns()); any thread. */
    private final java.util.concurrent.ConcurrentHashMap<Integer, Task> pidHash =
            new java.util.concurrent.ConcurrentHashMap<>();
    /** Set when the machine stops: spins (SCX_KICK_WAIT, ttwu) give up so nothing hangs. */
    volatile boolean stopping;
    /** The first kernel BUG seen on any thread (the emulator's own inconsistency), or null. */
    private volatile Throwable bug;

    public Kernel(int nrCpus, Clock clock) {
        this(nrCpus, clock, TICK_NS_DEFAULT, Tracer.NONE);
    }

    public Kernel(int nrCpus, Clock clock, long tickNs, Tracer tracer) {
        this(nrCpus, clock, tickNs, tracer, CoreProfile.V7);
    }

    /**
     * A kernel following {@code profile}'s sched_ext core. The profile's keys are global: the
     * last kernel constructed decides them (one kernel per JVM runs at a time).
     */
    public Kernel(int nrCpus, Clock clock, long tickNs, Tracer tracer, CoreProfile profile) {
        if (nrCpus < 1 || nrCpus > NR_CPUS_MAX) {
            throw new IllegalArgumentException("cpus must be 1.." + NR_CPUS_MAX + ", got " + nrCpus);
        }
        this.nrCpus = nrCpus;
        this.clock = clock;
        this.tickNs = tickNs;
        this.tracer = tracer;
        this.rqs = new Rq[nrCpus];
        for (int i = 0; i < nrCpus; i++) {
            rqs[i] = new Rq(this, i);
        }
        RawSpinLock.configureForCpus(nrCpus); // the DSQ locks' mode, before Ext creates the first
        this.ext = new Ext(this);
        this.profile = profile;
        profile.apply();
    }

    /** The kernel version this core follows where versions differ. */
    public CoreProfile profile() {
        return profile;
    }

    /** Records a kernel BUG (an emulator inconsistency): the run stops and reports it. */
    public void reportBug(Throwable t) {
        if (bug == null) {
            bug = t;
        }
        stopping = true;
    }

    public Throwable bug() {
        return bug;
    }

    /** Tells every spin to give up: the machine is stopping. */
    public void stop() {
        stopping = true;
        for (Rq rq : rqs) {
            rq.wakeCpuThread();
        }
    }

    public boolean isStopping() {
        return stopping;
    }

    void registerCtx(ExecCtx c) {
        ctxs.add(c);
    }

    List<ExecCtx> ctxs() {
        return ctxs;
    }

    /** ops_calls: calls per op (index {@link ScxOp#ordinal()}), summed over every thread. */
    public long[] opCalls() {
        long[] sum = new long[ScxOp.COUNT];
        for (ExecCtx c : ctxs) {
            for (int i = 0; i < sum.length; i++) {
                sum[i] += c.opCalls[i];
            }
        }
        return sum;
    }

    /** kfunc_calls: calls per kfunc (index {@link Kfunc#ordinal()}), summed over every thread. */
    public long[] kfuncCalls() {
        long[] sum = new long[Kfunc.COUNT];
        for (ExecCtx c : ctxs) {
            for (int i = 0; i < sum.length; i++) {
                sum[i] += c.kfuncCalls[i];
            }
        }
        return sum;
    }

    /** Tasks re-enqueued by scx_bpf_reenqueue_local(), summed over every CPU. */
    public long reenqueuedTasks() {
        long n = 0;
        for (ExecCtx c : ctxs) {
            n += c.reenqueuedTasks;
        }
        return n;
    }

    public int nrCpus() {
        return nrCpus;
    }

    public Rq rq(int cpu) {
        return rqs[cpu];
    }

    public long now() {
        return clock.nanoTime();
    }

    /** Snapshot of the live tasks, in fork order. */
    public List<Task> tasks() {
        synchronized (tasks) {
            return new ArrayList<>(tasks);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Task creation (fork) and exit
    // ---------------------------------------------------------------------------------------------

    /** What a new task is: its name, policy, nice, allowed CPUs, behaviour, first CPU. */
    public static final class TaskSpec {
        String comm = "task";
        int policy = Task.SCHED_NORMAL;
        int nice;
        boolean stopper;
        CpuMask allowed;
        Behavior behavior = Behavior.cpuBound(1_000_000L);
        int cpu = -1;
        int pflags;
        long cgroupId;

        public TaskSpec comm(String v) {
            comm = v;
            return this;
        }

        public TaskSpec policy(int v) {
            policy = v;
            return this;
        }

        public TaskSpec nice(int v) {
            if (v < -20 || v > 19) {
                throw new IllegalArgumentException("nice must be -20..19, got " + v);
            }
            nice = v;
            return this;
        }

        /** A per-CPU stopper task (class stop). */
        public TaskSpec stopper() {
            stopper = true;
            return this;
        }

        public TaskSpec allowed(CpuMask v) {
            allowed = v;
            return this;
        }

        public TaskSpec behavior(Behavior v) {
            behavior = v;
            return this;
        }

        /** The CPU the task starts on (its parent's); -1 for CPU 0 or the first allowed. */
        public TaskSpec cpu(int v) {
            cpu = v;
            return this;
        }

        public TaskSpec kthread() {
            pflags |= Task.PF_KTHREAD;
            return this;
        }

        public TaskSpec cgroup(long id) {
            cgroupId = id;
            return this;
        }
    }

    /**
     * fork() + wake_up_new_task(): creates the task, runs sched_ext's fork hooks
     * ({@code init_task} with {@code fork = true} when a scheduler is loaded) and makes it
     * runnable. Any thread holding no rq lock may call this.
     *
     * @return the task, or null if the scheduler refused it (ops.init_task() failed)
     */
    public Task fork(TaskSpec spec) {
        CpuMask allowed = spec.allowed != null ? spec.allowed : CpuMask.all(nrCpus);
        if (allowed.last() >= nrCpus || allowed.weight() == 0) {
            throw new IllegalArgumentException("affinity " + allowed + " has no CPU of 0-" + (nrCpus - 1));
        }
        int pid = nextPid.getAndIncrement();
        Task p = new Task(pid, spec.comm, spec.policy, spec.nice, spec.stopper, allowed, spec.behavior,
                spec.pflags);
        p.cgroupId = spec.cgroupId;
        int cpu = spec.cpu >= 0 && allowed.test(spec.cpu) ? spec.cpu : allowed.first();
        p.writeOnceCpu(cpu);
        p.svState(TASK_WAKING);
        // sched_fork(): __setscheduler_prio()
        p.schedClass = classFor(p);

        ExecCtx ctx = ExecCtx.current(this);
        forkRwsem.readLock().lock(); // scx_pre_fork()
        try {
            if (!ext.scxFork(p)) {
                return null; // scx_cancel_fork() already ran
            }
            synchronized (tasks) {
                tasks.add(p);
            }
            pidHash.put(p.pid, p);
            ext.scxPostFork(p);
        } finally {
            forkRwsem.readLock().unlock();
        }
        wakeUpNewTask(p);
        flushIrqWork(ctx);
        return p;
    }

    /** __setscheduler_prio(): the class a task of this policy belongs to now. */
    SchedClass classFor(Task p) {
        if (p.stopper) {
            return SchedClass.STOP;
        }
        switch (p.policy) {
            case Task.SCHED_DEADLINE:
                return SchedClass.DL;
            case Task.SCHED_FIFO:
            case Task.SCHED_RR:
                return SchedClass.RT;
            default:
                return ext.taskShouldScx(p) ? SchedClass.EXT : SchedClass.FAIR;
        }
    }

    /** core.c: wake_up_new_task() */
    private void wakeUpNewTask(Task p) {
        p.piLock.lock();
        try {
            int cpu = selectTaskRq(p, p.readOnceCpu(), Task.WF_FORK);
            Rq rq = rqs[cpu];
            rq.lock.lock();
            try {
                setTaskCpu(p, cpu);
                p.soState(Task.TASK_RUNNING);
                activateTask(rq, p, ENQUEUE_NOCLOCK | ENQUEUE_INITIAL);
                wakeupPreempt(rq, p);
            } finally {
                rq.lock.unlock();
            }
        } finally {
            p.piLock.unlock();
        }
    }

    /** The task's exit, after it has been switched out for the last time. */
    private void finishDeadTask(Task p) {
        Rq rq = taskRqLock(p);
        try {
            ext.schedExtFree(p);
        } finally {
            taskRqUnlock(rq, p);
        }
        synchronized (tasks) {
            tasks.remove(p);
        }
        pidHash.remove(p.pid, p);
    }

    /** find_task_by_vpid(): the live task with this pid, or null. */
    public Task findTaskByPid(int pid) {
        Task p = pidHash.get(pid);
        return p == null || p.isDead() ? null : p;
    }

    // ---------------------------------------------------------------------------------------------
    // Wakeups
    // ---------------------------------------------------------------------------------------------

    /**
     * set_current_state(TASK_INTERRUPTIBLE) for a task about to block: call before checking the
     * wake-up condition, then {@link Step#block()}; a wakeup in between is not lost.
     */
    public void prepareToWait(Task self) {
        self.svState(Task.TASK_INTERRUPTIBLE);
    }

    /** Undoes {@link #prepareToWait} when the condition turned out true: __set_current_state(RUNNING). */
    public void finishWait(Task self) {
        self.svState(Task.TASK_RUNNING);
    }

    /** wake_up_process(): from any thread holding no rq lock. */
    public boolean wakeUpProcess(Task p) {
        boolean woke = tryToWakeUp(p, 0);
        flushIrqWork(ExecCtx.current(this));
        return woke;
    }

    /**
     * core.c: try_to_wake_up(). Under {@code p->pi_lock}: a task still on its rq is just marked
     * running (ttwu_runnable); otherwise wait for it to be switched out ({@code on_cpu}), choose a
     * CPU with the class's select_task_rq() and activate it there.
     */
    boolean tryToWakeUp(Task p, int wakeFlags) {
        p.piLock.lock();
        try {
            int state = p.laState();
            if (state == Task.TASK_RUNNING || state == Task.TASK_DEAD || state == TASK_WAKING) {
                return false;
            }
            // ttwu_runnable(): the task has not been deactivated yet.
            if (p.laOnRq() != 0) {
                Rq rq = taskRqLockNoPi(p);
                try {
                    if (p.laOnRq() != 0) {
                        p.soState(Task.TASK_RUNNING);
                        if (rq.curr != p) {
                            wakeupPreempt(rq, p);
                        }
                        return true;
                    }
                } finally {
                    rq.lock.unlock();
                }
            }
            p.soState(TASK_WAKING);
            // smp_cond_load_acquire(&p->on_cpu, !VAL): pairs with the release in __schedule().
            while (p.laOnCpu() && !stopping) {
                Thread.onSpinWait();
                RacePoint.at(RacePoint.SPIN);
            }
            int cpu = selectTaskRq(p, p.readOnceCpu(), wakeFlags | Task.WF_TTWU);
            Rq rq = rqs[cpu];
            rq.lock.lock();
            try {
                setTaskCpu(p, cpu);
                // ttwu_do_activate(): en_flags = ENQUEUE_WAKEUP | ENQUEUE_NOCLOCK
                activateTask(rq, p, ENQUEUE_WAKEUP | ENQUEUE_NOCLOCK);
                p.soState(Task.TASK_RUNNING);
                wakeupPreempt(rq, p);
            } finally {
                rq.lock.unlock();
            }
            return true;
        } finally {
            p.piLock.unlock();
        }
    }

    /**
     * try_to_wake_up() of this CPU's stopper by affine_move_task(), which holds the stopper's
     * pi_lock and this rq's lock already. Taking them again would self-deadlock in the kernel
     * (the kernel drops the rq lock before stop_one_cpu_nowait()); here the wake is done under
     * the held locks so the stopper is queued before the rq lock goes, without a recursive
     * acquisition. The stopper is pinned to {@code rq}'s CPU and, not being curr, is off-CPU.
     */
    private void wakeStopperLocked(Rq rq, Task stopper) {
        rq.assertHeld();
        int state = stopper.laState();
        if (state == Task.TASK_RUNNING || state == Task.TASK_DEAD || state == TASK_WAKING) {
            return;
        }
        if (stopper.laOnRq() != 0) {
            // ttwu_runnable()
            stopper.soState(Task.TASK_RUNNING);
            if (rq.curr != stopper) {
                wakeupPreempt(rq, stopper);
            }
            return;
        }
        setTaskCpu(stopper, rq.cpu);
        activateTask(rq, stopper, ENQUEUE_WAKEUP | ENQUEUE_NOCLOCK);
        stopper.soState(Task.TASK_RUNNING);
        wakeupPreempt(rq, stopper);
    }

    /** select_task_rq(): the class's choice, kept within the allowed mask. */
    private int selectTaskRq(Task p, int prevCpu, int wakeFlags) {
        int cpu;
        switch (p.schedClass) {
            case EXT:
                cpu = ext.idle.selectTaskRqScx(p, prevCpu, wakeFlags);
                break;
            case STOP:
            case DL:
            case RT:
                cpu = prevCpu;
                break;
            default:
                cpu = selectIdleSibling(p, prevCpu);
                break;
        }
        if (cpu < 0 || cpu >= nrCpus || !p.cpusAllowed.test(cpu)) {
            cpu = p.cpusAllowed.test(prevCpu) ? prevCpu : p.cpusAllowed.first();
        }
        return cpu;
    }

    /** A minimal select_idle_sibling() for fair: prev if idle, else any idle allowed CPU. */
    private int selectIdleSibling(Task p, int prev) {
        if (p.cpusAllowed.test(prev) && rqs[prev].isIdle() && rqs[prev].nrRunning == 0) {
            return prev;
        }
        for (int c = p.cpusAllowed.first(); c >= 0 && c < nrCpus; c = p.cpusAllowed.next(c + 1)) {
            if (rqs[c].isIdle() && rqs[c].nrRunning == 0) {
                return c;
            }
        }
        return prev;
    }

    /** set_task_cpu() */
    void setTaskCpu(Task p, int cpu) {
        p.writeOnceCpu(cpu);
    }

    /** check_preempt_curr() / wakeup_preempt() */
    void wakeupPreempt(Rq rq, Task p) {
        rq.assertHeld();
        Task curr = rq.curr;
        if (p.schedClass.above(curr.schedClass)) {
            reschedCurr(rq);
        }
    }

    /** resched_curr(): the rq lock is held. */
    void reschedCurr(Rq rq) {
        rq.setNeedResched();
    }

    // ---------------------------------------------------------------------------------------------
    // Locking helpers
    // ---------------------------------------------------------------------------------------------

    /** task_rq_lock(): p->pi_lock, then the rq the task is on; returns that rq, both locked. */
    Rq taskRqLock(Task p) {
        p.piLock.lock();
        return taskRqLockNoPi(p);
    }

    void taskRqUnlock(Rq rq, Task p) {
        rq.lock.unlock();
        p.piLock.unlock();
    }

    /** __task_rq_lock(): the rq the task is on, locked, re-checked against migration. */
    Rq taskRqLockNoPi(Task p) {
        for (;;) {
            Rq rq = rqs[p.readOnceCpu()];
            rq.lock.lock();
            if (rq.cpu == p.readOnceCpu() && p.laOnRq() != Task.TASK_ON_RQ_MIGRATING) {
                return rq;
            }
            rq.lock.unlock();
            Thread.onSpinWait();
        }
    }

    /**
     * core.c: double_rq_lock(): both rq locks, the lower CPU's first. The one way scx-emu takes
     * two rq locks, so no two threads can deadlock on them.
     */
    void doubleRqLock(Rq a, Rq b) {
        if (a == b) {
            a.lock.lock();
        } else if (a.cpu < b.cpu) {
            a.lock.lock();
            b.lock.lock();
        } else {
            b.lock.lock();
            a.lock.lock();
        }
    }

    /** core.c: double_rq_unlock() */
    void doubleRqUnlock(Rq a, Rq b) {
        a.lock.unlock();
        if (a != b) {
            b.lock.unlock();
        }
    }

    /**
     * The current tasks of CPUs {@code a} and {@code b}, read with both rq locks held
     * ({@link #doubleRqLock}): a snapshot of the CPUs' published state. For observers (workload
     * metrics); it briefly stalls both CPUs.
     *
     * <p>A CPU holds its rq lock through __schedule() except where balance_scx() drops it to pull
     * a task from another rq (dispatch_to_local_dsq(), consume_remote_task()); the snapshot can
     * land in that window, and then that CPU's {@code curr} is still the task it is switching away
     * from (already dequeued if it went to sleep), which is not running. ext.c's
     * can_skip_idle_kick() reads {@code SCX_RQ_BALANCING} under the rq lock for the same reason;
     * so does this.
     *
     * @return false if either CPU is inside balance_scx() (its {@code curr} does not say what it
     *     runs); {@code out} is filled in either way
     */
    public boolean currOfPair(int a, int b, Task[] out) {
        Rq ra = rqs[a];
        Rq rb = rqs[b];
        doubleRqLock(ra, rb);
        try {
            out[0] = ra.curr;
            out[1] = rb.curr;
            return ((ra.scx.flags | rb.scx.flags) & SCX_RQ_BALANCING) == 0;
        } finally {
            doubleRqUnlock(ra, rb);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Enqueue / dequeue
    // ---------------------------------------------------------------------------------------------

    /** activate_task() */
    void activateTask(Rq rq, Task p, int flags) {
        enqueueTask(rq, p, flags);
        p.soOnRq(Task.TASK_ON_RQ_QUEUED);
    }

    /** deactivate_task() */
    void deactivateTask(Rq rq, Task p, int flags) {
        p.soOnRq((flags & DEQUEUE_SLEEP) != 0 ? 0 : Task.TASK_ON_RQ_MIGRATING);
        dequeueTask(rq, p, flags);
    }

    /** enqueue_task(): the class's enqueue plus add_nr_running(). */
    void enqueueTask(Rq rq, Task p, int flags) {
        rq.assertHeld();
        if (p.runnableSince < 0) {
            p.runnableSince = now();
        }
        switch (p.schedClass) {
            case EXT:
                ext.enqueueTaskScx(rq, p, flags);
                break;
            case IDLE:
                throw new IllegalStateException("enqueue of the idle task");
            default:
                if (rq.curr != p) {
                    if ((flags & ENQUEUE_HEAD) != 0) {
                        runListAddHead(rq, p);
                    } else {
                        runListAddTail(rq, p);
                    }
                }
                p.simpleQueued = true;
                rq.nrRunning++;
                break;
        }
    }

    /** dequeue_task() */
    void dequeueTask(Rq rq, Task p, int flags) {
        rq.assertHeld();
        if ((flags & DEQUEUE_SLEEP) != 0) {
            p.runnableSince = -1;
        }
        switch (p.schedClass) {
            case EXT:
                ext.dequeueTaskScx(rq, p, flags);
                break;
            case IDLE:
                throw new IllegalStateException("dequeue of the idle task");
            default:
                if (rq.curr == p) {
                    updateCurrCommon(rq, p);
                }
                if (p.onRunList) {
                    runListRemove(rq, p);
                }
                p.simpleQueued = false;
                rq.nrRunning--;
                break;
        }
    }

    private void runListAddTail(Rq rq, Task p) {
        int c = p.schedClass.ordinal();
        p.runNext = null;
        p.runPrev = rq.runTail[c];
        if (rq.runTail[c] != null) {
            rq.runTail[c].runNext = p;
        } else {
            rq.runHead[c] = p;
        }
        rq.runTail[c] = p;
        rq.runNr[c]++;
        p.onRunList = true;
    }

    private void runListAddHead(Rq rq, Task p) {
        int c = p.schedClass.ordinal();
        p.runPrev = null;
        p.runNext = rq.runHead[c];
        if (rq.runHead[c] != null) {
            rq.runHead[c].runPrev = p;
        } else {
            rq.runTail[c] = p;
        }
        rq.runHead[c] = p;
        rq.runNr[c]++;
        p.onRunList = true;
    }

    private void runListRemove(Rq rq, Task p) {
        int c = p.schedClass.ordinal();
        if (p.runPrev != null) {
            p.runPrev.runNext = p.runNext;
        } else {
            rq.runHead[c] = p.runNext;
        }
        if (p.runNext != null) {
            p.runNext.runPrev = p.runPrev;
        } else {
            rq.runTail[c] = p.runPrev;
        }
        p.runPrev = null;
        p.runNext = null;
        rq.runNr[c]--;
        p.onRunList = false;
    }

    /** update_curr_common(): charges the runtime since exec_start. */
    long updateCurrCommon(Rq rq, Task curr) {
        long now = now();
        long delta = now - curr.execStart;
        if (delta <= 0) {
            return 0;
        }
        curr.sumExecRuntime += delta;
        curr.execStart = now;
        return delta;
    }

    // ---------------------------------------------------------------------------------------------
    // __schedule() and the v7 pick flow
    // ---------------------------------------------------------------------------------------------

    /**
     * core.c: __schedule(). Deactivates prev if it is going to sleep (unless preempted), picks
     * the next task and switches to it. Called by the CPU's own thread only.
     */
    void schedule(Rq rq, boolean preempt) {
        Task prev;
        Task next;
        rq.lock.lock();
        try {
            prev = rq.curr;
            int prevState = prev.laState();
            if (!preempt && prevState != Task.TASK_RUNNING && prev != rq.idle) {
                deactivateTask(rq, prev, DEQUEUE_SLEEP | DEQUEUE_NOCLOCK);
            }
            next = pickNextTask(rq, prev);
            tracer.pick(rq.cpu, prev, next);
            rq.clearNeedResched();
            if (CoreProfile.CORE_6_12.enabled()) {
                // put_prev_task_scx()'s set_tsk_need_resched(next) outlives prev's clear
                ext.core612.afterPick(rq);
            }
            long now = now();
            if (next != prev) {
                rq.soNrSwitches(rq.nrSwitches + 1);
                prev.nrSwitches++;
                if (prev != rq.idle) {
                    rq.busyNs += now - rq.lastSwitchNs;
                }
                rq.lastSwitchNs = now;
                if (next.runnableSince >= 0 && next != rq.idle) {
                    next.waitNs += now - next.runnableSince;
                    rq.stats.recordWait(now - next.runnableSince);
                }
                next.runnableSince = -1;
                next.soOnCpu(true);
                rq.curr = next;
                tracer.sched_switch(rq.cpu, now, prev, next);
                // finish_task(): smp_store_release(&prev->on_cpu, 0); pairs with the
                // smp_cond_load_acquire() in try_to_wake_up().
                prev.soOnCpu(false);
                if (prev.laOnRq() != 0 && prev != rq.idle && prev.runnableSince < 0) {
                    prev.runnableSince = now;
                }
            }
            rq.behaviourTask = next;
            rq.behaviourClockNs = now;
        } finally {
            rq.lock.unlock();
        }
        if (next != prev && prev.laState() == Task.TASK_DEAD) {
            finishDeadTask(prev);
        }
    }

    /**
     * core.c: pick_next_task() as of the seed's series [v7]: put_prev_task_balance(), then the
     * first class in priority order that has a task wins, and {@code scx_next_task_picked()} is
     * told which class that was.
     */
    Task pickNextTask(Rq rq, Task prev) {
        if (CoreProfile.CORE_6_12.enabled()) {
            return pickNextTask612(rq, prev);
        }
        SchedClass prevClass = prev.schedClass;
        // put_prev_task_balance(): for_balance_class_range(class, prev->sched_class, &idle)
        SchedClass start = prevClass == SchedClass.IDLE ? SchedClass.EXT : prevClass;
        for (int c = start.ordinal(); c < SchedClass.IDLE.ordinal(); c++) {
            SchedClass cls = SchedClass.of(c);
            if (classActive(cls) && balance(cls, rq, prev)) {
                break;
            }
        }
        putPrevTask(rq, prev);
        for (int c = 0; c <= SchedClass.IDLE.ordinal(); c++) {
            SchedClass cls = SchedClass.of(c);
            if (!classActive(cls)) {
                continue;
            }
            Task p = pickNextTaskOf(cls, rq);
            if (p != null) {
                if (CoreProfile.SWITCH_CLASS.enabled()) {
                    // 6.12+: no core hook; put_prev_task_scx() ends with switch_class() when an
                    // ext task makes way for a non-ext one
                    ext.pickedSwitchClass(rq, prevClass, p, cls);
                } else {
                    ext.scxNextTaskPicked(rq, p, cls);
                }
                return p;
            }
        }
        throw new IllegalStateException("no task picked on CPU " + rq.cpu);
    }

    /**
     * core.c (6.12): __pick_next_task(): prev_balance() (SCX_RQ_BAL_PENDING set, the walk starts
     * at ext when prev is idle), then each class's pick_task() from the top; the first task found
     * goes through put_prev_set_next_task(), which does nothing when it is prev itself. So a prev
     * that keeps running is neither put nor set again, and an idle CPU that stays idle does not
     * call update_idle() (scx issue #788, as 6.12 has it).
     */
    Task pickNextTask612(Rq rq, Task prev) {
        SchedClass prevClass = prev.schedClass;
        SchedClass start = prevClass;
        if (ScxKeys.SCX_OPS_ENABLED.enabled()) {
            ext.core612.setBalPending(rq);
            if (SchedClass.EXT.above(start)) {
                start = SchedClass.EXT;
            }
        }
        for (int c = start.ordinal(); c < SchedClass.IDLE.ordinal(); c++) {
            SchedClass cls = SchedClass.of(c);
            if (!classActive(cls)) {
                continue;
            }
            // balance_scx() -> balance_one() for ext
            if (cls == SchedClass.EXT ? ext.core612.balanceOne(rq, prev) : balance(cls, rq, prev)) {
                break;
            }
        }
        // The kernel's rt/dl/stop/fair queues hold their running task, our run lists only the
        // waiting ones: a prev of those classes goes back on its list before the picks (its
        // put_prev_task() does nothing the picks could see), and is taken off again if picked.
        boolean prevSimple = prevClass != SchedClass.EXT && prevClass != SchedClass.IDLE;
        if (prevSimple) {
            putPrevTask(rq, prev);
        }
        for (int c = 0; c <= SchedClass.IDLE.ordinal(); c++) {
            SchedClass cls = SchedClass.of(c);
            if (!classActive(cls)) {
                continue;
            }
            Task p = pickTask612(cls, rq);
            if (p == null) {
                continue;
            }
            if (cls.above(SchedClass.EXT) && ScxKeys.SCX_OPS_ENABLED.enabled()) {
                ext.dispatch.strandLocalDsq(rq);
            }
            // put_prev_set_next_task()
            if (p != prev) {
                if (prevClass == SchedClass.EXT) {
                    ext.core612.putPrevTaskScx(rq, prev, p);
                } else if (prevClass == SchedClass.IDLE) {
                    // put_prev_task_idle() -> scx_update_idle(rq, false)
                    ext.idle.updateIdle(rq, false);
                }
                setNextTask612(cls, rq, p);
            } else if (prevSimple) {
                setNextTaskSimple(rq, p);
            }
            return p;
        }
        throw new IllegalStateException("no task picked on CPU " + rq.cpu);
    }

    /** class->pick_task() (6.12): the class's next task, not yet set up to run. */
    private Task pickTask612(SchedClass cls, Rq rq) {
        switch (cls) {
            case EXT:
                return ext.core612.pickTaskScx(rq);
            case IDLE:
                return rq.idle;
            default:
                return rq.runHead[cls.ordinal()];
        }
    }

    /** class->set_next_task(rq, p, true) (6.12). */
    private void setNextTask612(SchedClass cls, Rq rq, Task p) {
        switch (cls) {
            case EXT:
                ext.setNextTaskScx(rq, p);
                break;
            case IDLE:
                // set_next_task_idle() -> scx_update_idle(rq, true)
                rq.idle.execStart = now();
                ext.idle.updateIdle(rq, true);
                break;
            default:
                setNextTaskSimple(rq, p);
                break;
        }
    }

    /** next_active_class(): fair is skipped when scx_switched_all(), ext when !scx_enabled(). */
    private boolean classActive(SchedClass cls) {
        if (cls == SchedClass.FAIR) {
            return !ScxKeys.SCX_SWITCHED_ALL.enabled();
        }
        if (cls == SchedClass.EXT) {
            return ScxKeys.SCX_OPS_ENABLED.enabled();
        }
        return true;
    }

    /**
     * class->balance(): rt/dl/stop report runnable tasks of their class or above. Their run
     * queues (rt_queued, dl_nr_running, rq->stop on the rq) count the task still running, while
     * our run lists hold only the waiting ones, so a queued prev of such a class counts too:
     * a rescheduled CPU running an RT task stops here and never reaches balance_scx().
     */
    private boolean balance(SchedClass cls, Rq rq, Task prev) {
        switch (cls) {
            case STOP:
                // balance_stop(): sched_stop_runnable()
                return rq.runNr[0] > 0 || prevQueuedAtOrAbove(prev, cls);
            case DL:
                // balance_dl(): sched_stop_runnable() || sched_dl_runnable()
                return rq.runNr[0] + rq.runNr[1] > 0 || prevQueuedAtOrAbove(prev, cls);
            case RT:
                // balance_rt(): ... || sched_rt_runnable()
                return rq.runNr[0] + rq.runNr[1] + rq.runNr[2] > 0 || prevQueuedAtOrAbove(prev, cls);
            case FAIR:
                // balance_fair(): if (rq->nr_running) return 1;
                return rq.nrRunning > 0;
            case EXT:
                return ext.balanceScx(rq, prev);
            default:
                return false;
        }
    }

    /** Whether prev, still queued (not going to sleep), belongs to {@code cls} or a class above it. */
    private static boolean prevQueuedAtOrAbove(Task prev, SchedClass cls) {
        return prev.simpleQueued && !prev.onRunList && !cls.above(prev.schedClass);
    }

    /** class->pick_next_task(), including set_next_task(). */
    private Task pickNextTaskOf(SchedClass cls, Rq rq) {
        switch (cls) {
            case EXT:
                return ext.pickNextTaskScx(rq);
            case IDLE:
                // pick_next_task_idle() -> set_next_task_idle() -> scx_update_idle(rq, true)
                rq.idle.execStart = now();
                ext.idle.updateIdle(rq, true);
                return rq.idle;
            default:
                Task p = rq.runHead[cls.ordinal()];
                if (p != null) {
                    setNextTaskSimple(rq, p);
                }
                return p;
        }
    }

    private void setNextTaskSimple(Rq rq, Task p) {
        runListRemove(rq, p);
        p.execStart = now();
        if (p.requeueTail || p.fairSliceStart == 0) {
            p.fairSliceStart = p.execStart;
        }
        p.requeueTail = false;
    }

    /** set_next_task(): make a task that is already rq->curr current again for its class. */
    void setNextTask(Rq rq, Task p) {
        switch (p.schedClass) {
            case EXT:
                ext.setNextTaskScx(rq, p);
                break;
            case IDLE:
                ext.idle.updateIdle(rq, true);
                break;
            default:
                if (p.onRunList) {
                    setNextTaskSimple(rq, p);
                } else {
                    p.execStart = now();
                }
                break;
        }
    }

    /** put_prev_task() */
    void putPrevTask(Rq rq, Task prev) {
        switch (prev.schedClass) {
            case EXT:
                ext.putPrevTaskScx(rq, prev);
                break;
            case IDLE:
                // put_prev_task_idle() -> scx_update_idle(rq, false)
                ext.idle.updateIdle(rq, false);
                break;
            default:
                updateCurrCommon(rq, prev);
                if (prev.simpleQueued && !prev.onRunList) {
                    // A preempted task keeps its place; one that yielded or used up its
                    // round-robin slice goes to the tail.
                    if (prev.requeueTail) {
                        runListAddTail(rq, prev);
                    } else {
                        runListAddHead(rq, prev);
                    }
                }
                break;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Ticks and yield
    // ---------------------------------------------------------------------------------------------

    /** scheduler_tick(): charges curr and runs its class's task_tick(). */
    void schedulerTick(Rq rq) {
        rq.lock.lock();
        try {
            Task curr = rq.curr;
            tracer.tick(rq.cpu, curr);
            switch (curr.schedClass) {
                case EXT:
                    ext.taskTickScx(rq, curr);
                    break;
                case FAIR:
                    updateCurrCommon(rq, curr);
                    if (now() - curr.fairSliceStart >= FAIR_SLICE_NS && rq.runNr[SchedClass.FAIR.ordinal()] > 0) {
                        curr.requeueTail = true;
                        reschedCurr(rq);
                    }
                    break;
                case RT:
                    updateCurrCommon(rq, curr);
                    if (curr.policy == Task.SCHED_RR && now() - curr.fairSliceStart >= RR_TIMESLICE_NS
                            && rq.runNr[SchedClass.RT.ordinal()] > 0) {
                        curr.requeueTail = true;
                        reschedCurr(rq);
                    }
                    break;
                default:
                    updateCurrCommon(rq, curr);
                    break;
            }
        } finally {
            rq.lock.unlock();
        }
    }

    /** do_sched_yield(): the class's yield_task(), then schedule(). */
    private void schedYield(Rq rq, Task curr) {
        rq.lock.lock();
        try {
            if (curr.schedClass == SchedClass.EXT) {
                ext.yieldTaskScx(rq, curr);
            } else {
                curr.requeueTail = true;
            }
            reschedCurr(rq);
        } finally {
            rq.lock.unlock();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Class changes (sched_setscheduler(), scheduler load and unload)
    // ---------------------------------------------------------------------------------------------

    /**
     * The sched_change pattern with check_class_changing() / check_class_changed(): dequeue (SAVE
     * | MOVE) and put_prev if running, switch the class, enqueue (RESTORE | MOVE) and set_next.
     * Caller holds {@code task_rq_lock(p)}.
     */
    void changeClass(Rq rq, Task p, SchedClass newClass) {
        rq.assertHeld();
        SchedClass oldClass = p.schedClass;
        if (oldClass == newClass) {
            return;
        }
        boolean queued = p.laOnRq() == Task.TASK_ON_RQ_QUEUED;
        boolean running = rq.curr == p;
        if (queued) {
            dequeueTask(rq, p, DEQUEUE_SAVE | DEQUEUE_MOVE | DEQUEUE_NOCLOCK);
        }
        if (running) {
            putPrevTask(rq, p);
        }
        p.schedClass = newClass;
        // check_class_changing()
        if (newClass == SchedClass.EXT) {
            ext.switchingToScx(rq, p);
        }
        if (queued) {
            enqueueTask(rq, p, ENQUEUE_RESTORE | ENQUEUE_MOVE | ENQUEUE_NOCLOCK);
        }
        if (running) {
            setNextTask(rq, p);
        }
        // check_class_changed()
        if (oldClass == SchedClass.EXT) {
            ext.switchedFromScx(rq, p);
        }
        if (running) {
            reschedCurr(rq);
        } else if (queued) {
            wakeupPreempt(rq, p);
        }
    }

    /** Dequeue and re-enqueue a queued task in place (SAVE | MOVE, RESTORE | MOVE). */
    void requeue(Rq rq, Task p) {
        rq.assertHeld();
        boolean running = rq.curr == p;
        dequeueTask(rq, p, DEQUEUE_SAVE | DEQUEUE_MOVE | DEQUEUE_NOCLOCK);
        if (running) {
            putPrevTask(rq, p);
        }
        enqueueTask(rq, p, ENQUEUE_RESTORE | ENQUEUE_MOVE | ENQUEUE_NOCLOCK);
        if (running) {
            setNextTask(rq, p);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Affinity: sched_setaffinity()'s core and the migration stopper
    // ---------------------------------------------------------------------------------------------

    /** -EINVAL, as __set_cpus_allowed_ptr() returns it. */
    public static final int EINVAL = 22;
    /** -ENOMEM: the per-CPU stoppers could not be created (ops.init_task() refused one). */
    public static final int ENOMEM = 12;
    /** -ESRCH: the task has exited. */
    public static final int ESRCH = 3;

    /** The per-CPU stoppers, created on first use; guarded by {@code stopperInitLock} to create. */
    private volatile CpuStopper[] stoppers;
    private final Object stopperInitLock = new Object();
    /** cpumask_any_and_distribute()'s per-call cursor; racy but benign (only spreads choices). */
    private int distributeCursor;

    /**
     * core.c: __set_cpus_allowed_ptr(): sets {@code p}'s allowed CPUs, as sched_setaffinity() does.
     * Under {@code task_rq_lock(p)} a queued task is dequeued with DEQUEUE_SAVE and a running one
     * put, the mask is set (an ext task's scheduler gets {@code ops.set_cpumask()}), and the task
     * is enqueued again with ENQUEUE_RESTORE. If its CPU is no longer allowed (affine_move_task()):
     * a queued task moves to an allowed CPU at once (move_queued_task()); a running one gets
     * {@link Task#migrationPending()} and this CPU's stopper is woken before the rq lock is
     * released, so the task is switched out at the next preemption point and the stopper moves it
     * (migration_cpu_stop()) before it can run there again; a sleeping one goes to an allowed CPU
     * at its next wakeup. Unlike the kernel, the caller does not wait for that migration (it may be
     * a stepping test or a CPU thread): it returns once the stopper is queued.
     *
     * <p>Any thread holding no kernel lock may call this (a task's behaviour too). CPUs beyond the
     * machine's are dropped from the mask, as sched_setaffinity() intersects it with the possible
     * CPUs.
     *
     * @return 0; -{@link #EINVAL} if the mask has no online CPU or the task is a stopper (per-CPU
     *     kthreads are PF_NO_SETAFFINITY); -{@link #ESRCH} if the task has exited (TASK_DEAD: no
     *     op may see it again); -{@link #ENOMEM} if the stoppers could not be created
     */
    public int setCpusAllowedPtr(Task p, CpuMask newMask) {
        if (p == null || newMask == null || p.stopper || (p.pflags & Task.PF_IDLE) != 0) {
            return -EINVAL;
        }
        CpuMask mask = newMask.last() < nrCpus ? newMask : newMask.and(CpuMask.all(nrCpus));
        if (firstOnline(mask, 0) < 0) {
            return -EINVAL;
        }
        CpuStopper[] st = cpuStoppers();
        if (st == null) {
            return -ENOMEM;
        }
        int ret;
        for (;;) {
            int cpu = p.readOnceCpu();
            CpuStopper stopper = st[cpu];
            // affine_move_task() may wake this CPU's stopper under the task's rq lock: take the
            // stopper's pi_lock first (pi_lock before rq lock, as everywhere), so the wakeup needs
            // no lock we do not already hold.
            stopper.task.piLock.lock();
            try {
                p.piLock.lock();
                try {
                    Rq rq = taskRqLockNoPi(p);
                    if (rq.cpu != cpu) {
                        rq.lock.unlock();
                        continue; // the task moved before we held its rq: its stopper differs
                    }
                    ret = setCpusAllowedPtrLocked(rq, p, mask, stopper);
                } finally {
                    p.piLock.unlock();
                }
            } finally {
                stopper.task.piLock.unlock();
            }
            break;
        }
        flushIrqWork(ExecCtx.current(this));
        return ret;
    }

    /**
     * core.c: __set_cpus_allowed_ptr_locked(). {@code rq}: the task's, locked on entry, released on
     * return; {@code p->pi_lock} and {@code stopper}'s held throughout.
     */
    private int setCpusAllowedPtrLocked(Rq rq, Task p, CpuMask mask, CpuStopper stopper) {
        rq.assertHeld();
        if (p.laState() == Task.TASK_DEAD || p.scx.freed) {
            rq.lock.unlock();
            return -ESRCH;
        }
        if (mask.equals(p.cpusAllowed)) {
            rq.lock.unlock();
            return 0;
        }
        int destCpu = cpumaskAnyAndDistribute(mask);
        doSetCpusAllowed(rq, p, mask);
        affineMoveTask(rq, p, destCpu, stopper);
        return 0;
    }

    /** core.c: __do_set_cpus_allowed(): the sched_change pattern around the class's hook. */
    private void doSetCpusAllowed(Rq rq, Task p, CpuMask mask) {
        rq.assertHeld();
        boolean queued = p.laOnRq() == Task.TASK_ON_RQ_QUEUED;
        boolean running = rq.curr == p;
        if (queued) {
            dequeueTask(rq, p, DEQUEUE_SAVE | DEQUEUE_NOCLOCK);
        }
        if (running) {
            putPrevTask(rq, p);
        }
        // p->sched_class->set_cpus_allowed(): set_cpus_allowed_common(), then ext's hook
        p.cpusAllowed = mask;
        if (p.schedClass == SchedClass.EXT) {
            ext.setCpusAllowedScx(rq, p);
        }
        if (queued) {
            enqueueTask(rq, p, ENQUEUE_RESTORE | ENQUEUE_NOCLOCK);
        }
        if (running) {
            setNextTask(rq, p);
            p.runnableSince = -1; // still running: no wait accrues
        }
    }

    /**
     * core.c: affine_move_task(), without the completion wait. {@code rq}: locked on entry,
     * released on return.
     */
    private void affineMoveTask(Rq rq, Task p, int destCpu, CpuStopper stopper) {
        rq.assertHeld();
        if (p.cpusAllowed.test(rq.cpu)) {
            p.migrationPending = false; // nothing to do: a pending migration is complete
            rq.lock.unlock();
            return;
        }
        if (rq.curr == p) {
            // stop_one_cpu_nowait(cpu_of(rq), migration_cpu_stop, ...). The stopper is queued on
            // this rq before its lock is released, so this CPU's next pick is the stopper (or a
            // stop task ahead of it), never p again.
            p.migrationPending = true;
            stopper.queue(new CpuStopper.MigrationArg(p, destCpu));
            wakeStopperLocked(rq, stopper.task);
            rq.lock.unlock();
            return;
        }
        if (p.laOnRq() == Task.TASK_ON_RQ_QUEUED) {
            p.migrationPending = false;
            moveQueuedTask(rq, p, destCpu);
            return;
        }
        // Sleeping (or a new task before its first wakeup): select_task_rq() at the next wakeup
        // picks an allowed CPU.
        p.migrationPending = false;
        rq.lock.unlock();
    }

    /**
     * core.c: move_queued_task(): deactivate (TASK_ON_RQ_MIGRATING), set_task_cpu(), switch rq
     * locks, activate on the new CPU and check preemption there. {@code rq}: locked on entry,
     * released on return; the new CPU's rq is locked and released inside. {@code p->pi_lock} held.
     */
    private void moveQueuedTask(Rq rq, Task p, int newCpu) {
        rq.assertHeld();
        deactivateTask(rq, p, DEQUEUE_NOCLOCK);
        setTaskCpu(p, newCpu);
        rq.lock.unlock();
        RacePoint.at(RacePoint.CROSS_CPU_MOVE);
        Rq dst = rqs[newCpu];
        dst.lock.lock();
        try {
            activateTask(dst, p, 0);
            wakeupPreempt(dst, p);
        } finally {
            dst.lock.unlock();
        }
    }

    /**
     * core.c: migration_cpu_stop(), run by CPU {@code thisRq}'s stopper with no lock held: if
     * {@code arg.task} is still on a CPU its mask does not allow, move it (it is no longer running
     * there: the stopper is). If it went on running on another disallowed CPU meanwhile, the work
     * is queued on that CPU's stopper instead.
     */
    void migrationCpuStop(Rq thisRq, CpuStopper.MigrationArg arg) {
        Task p = arg.task;
        int requeueOn = -1;
        p.piLock.lock();
        try {
            Rq rq = taskRqLockNoPi(p);
            boolean locked = true;
            try {
                if (p.cpusAllowed.test(rq.cpu)) {
                    p.migrationPending = false;
                } else if (rq.curr == p) {
                    requeueOn = rq.cpu; // rq != thisRq: our stopper is thisRq's curr
                } else if (p.laOnRq() == Task.TASK_ON_RQ_QUEUED) {
                    // __migrate_task(): the chosen CPU if still allowed, else any allowed one
                    int dest = p.cpusAllowed.test(arg.destCpu) && rqs[arg.destCpu].online ? arg.destCpu
                            : firstOnline(p.cpusAllowed, rq.cpu + 1);
                    if (dest >= 0) {
                        p.migrationPending = false;
                        locked = false;
                        moveQueuedTask(rq, p, dest);
                    }
                } else {
                    p.migrationPending = false; // asleep: its wakeup picks an allowed CPU
                }
            } finally {
                if (locked) {
                    rq.lock.unlock();
                }
            }
        } finally {
            p.piLock.unlock();
        }
        if (requeueOn >= 0) {
            CpuStopper st = stoppers[requeueOn];
            st.queue(arg);
            tryToWakeUp(st.task, 0);
        }
    }

    /** The per-CPU stoppers ({@code migration/N}), forked on first use; null if one was refused. */
    CpuStopper[] cpuStoppers() {
        CpuStopper[] s = stoppers;
        if (s != null) {
            return s;
        }
        synchronized (stopperInitLock) {
            if (stoppers == null) {
                CpuStopper[] n = new CpuStopper[nrCpus];
                for (int cpu = 0; cpu < nrCpus; cpu++) {
                    n[cpu] = new CpuStopper(this, cpu);
                    n[cpu].task = fork(new TaskSpec().comm("migration/" + cpu).stopper().kthread()
                            .allowed(CpuMask.of(cpu)).cpu(cpu).behavior(n[cpu]));
                    if (n[cpu].task == null) {
                        return null;
                    }
                }
                stoppers = n;
            }
            return stoppers;
        }
    }

    /**
     * hrtimer_start() on CPU {@code cpu}'s base: {@code t} fires on that CPU's thread, outside
     * every rq lock, once the kernel clock reaches {@code deadlineNs} (a callback may call the
     * kfuncs allowed from any context, such as scx_bpf_kick_cpu()). Re-arming a pending timer moves
     * it. Any thread.
     */
    public void hrtimerStart(Timer t, int cpu, long deadlineNs) {
        rqs[cpu].timers.arm(t, deadlineNs);
    }

    /** hrtimer_try_to_cancel(): true if {@code t} was pending (a running callback is not waited for). */
    public boolean hrtimerCancel(Timer t) {
        TimerQueue q = t.queue;
        return q != null && q.cancel(t);
    }

    /** cpumask_any_and_distribute(cpu_active_mask, mask): spreads successive choices. */
    private int cpumaskAnyAndDistribute(CpuMask mask) {
        int from = distributeCursor;
        int cpu = firstOnline(mask, from);
        distributeCursor = cpu + 1 >= nrCpus ? 0 : cpu + 1;
        return cpu;
    }

    /** The first online CPU of {@code mask} at or after {@code from}, wrapping around; -1 if none. */
    private int firstOnline(CpuMask mask, int from) {
        for (int i = 0; i < nrCpus; i++) {
            int cpu = (from + i) % nrCpus;
            if (mask.test(cpu) && rqs[cpu].online) {
                return cpu;
            }
        }
        return -1;
    }

    // ---------------------------------------------------------------------------------------------
    // The CPU loop: one pass of a simulated CPU
    // ---------------------------------------------------------------------------------------------

    /**
     * One pass of CPU {@code rq}'s loop, on its own thread (or a test's, after
     * {@link ExecCtx#enter}): pending irq work (kicks, the SCX_KICK_WAIT spin), due timers, the
     * tick, a reschedule if needed, then the current task's behaviour.
     *
     * @return how much work was done; 0 means the CPU may wait until {@link #cpuWakeDeadline}
     */
    public int cpuLoopOnce(Rq rq) {
        ExecCtx ctx = rq.ctx;
        int work = 0;
        if (ctx.waitPending) {
            if (!ext.kick.pollKickWait(ctx)) {
                return 0; // spinning in kick_cpus_irq_workfn()
            }
            work++;
        }
        if (ctx.kickPending) {
            ext.kick.kickCpusIrqWorkfn(ctx);
            work++;
            if (ctx.waitPending) {
                return work;
            }
        }
        long now = now();
        Timer t;
        while ((t = rq.timers.pollDue(now)) != null) {
            t.fire(this);
            work++;
        }
        Task curr = rq.curr;
        if (curr != rq.idle && now >= rq.nextTickNs) {
            schedulerTick(rq);
            rq.nextTickNs = now + tickNs;
            work++;
        }
        if (rq.needResched()) {
            schedule(rq, true);
            if (rq.curr != rq.idle && rq.nextTickNs < now) {
                rq.nextTickNs = now + tickNs;
            }
            return work + 1;
        }
        curr = rq.curr;
        if (curr == rq.idle) {
            return work;
        }
        if (rq.behaviourTask != curr) {
            rq.behaviourTask = curr;
            rq.behaviourClockNs = now;
        }
        long elapsed = now - rq.behaviourClockNs;
        rq.behaviourClockNs = now;
        curr.phaseLeftNs -= elapsed;
        if (!curr.started || curr.phaseLeftNs <= 0) {
            curr.started = true;
            runBehavior(rq, curr, now);
            work++;
        }
        return work;
    }

    /** The time until which CPU {@code rq} has nothing to do unless kicked. */
    public long cpuWakeDeadline(Rq rq) {
        long d = rq.timers.nextDeadline();
        Task curr = rq.curr;
        if (curr != rq.idle) {
            d = Math.min(d, rq.nextTickNs);
            d = Math.min(d, rq.behaviourClockNs + Math.max(0, curr.phaseLeftNs));
        }
        return d;
    }

    /** Whether CPU {@code rq} has something to do right now. */
    public boolean cpuHasWork(Rq rq) {
        return rq.needResched() || rq.ctx.kickPending || rq.ctx.waitPending;
    }

    private void runBehavior(Rq rq, Task curr, long now) {
        Step s = curr.step;
        curr.behavior.next(curr, s, now);
        switch (s.kind) {
            case RUN:
                curr.phaseLeftNs = s.ns;
                break;
            case SLEEP:
                curr.phaseLeftNs = 0;
                curr.svState(Task.TASK_INTERRUPTIBLE);
                rq.timers.arm(curr.sleepTimer, now + s.ns);
                schedule(rq, false);
                break;
            case BLOCK:
                curr.phaseLeftNs = 0;
                schedule(rq, false);
                break;
            case YIELD:
                curr.phaseLeftNs = 0;
                schedYield(rq, curr);
                break;
            case EXIT:
                curr.phaseLeftNs = 0;
                doExit(rq, curr);
                break;
            default:
                throw new IllegalStateException(s.kind.toString());
        }
        flushIrqWork(rq.ctx);
    }

    /** do_exit(): PF_EXITING, TASK_DEAD, and the final schedule(). */
    private void doExit(Rq rq, Task p) {
        p.pflags |= Task.PF_EXITING;
        p.svState(Task.TASK_DEAD);
        schedule(rq, false);
    }

    /** Runs the irq work a non-CPU thread queued (CPU threads run theirs in their loop). */
    void flushIrqWork(ExecCtx ctx) {
        if (ctx.rq == null && ctx.kickPending) {
            ext.kick.kickCpusIrqWorkfn(ctx);
            while (ctx.waitPending && !ext.kick.pollKickWait(ctx)) {
                Thread.onSpinWait();
                RacePoint.at(RacePoint.SPIN);
            }
        }
    }

    /** Binds CPU {@code rq} to the thread that will run its loop (for reschedule IPIs). */
    public void attachThread(Rq rq, Thread t) {
        rq.thread = t;
    }

    /** Stepping support: runs one pass of CPU {@code cpu}'s loop on the calling thread. */
    public int step(int cpu) {
        Rq rq = rqs[cpu];
        ExecCtx prev = ExecCtx.enter(rq.ctx);
        try {
            return cpuLoopOnce(rq);
        } finally {
            ExecCtx.leave(prev);
        }
    }
    // ---------------------------------------------------------------------------------------------
    // sched_setscheduler() and set_user_nice() at run time
    // ---------------------------------------------------------------------------------------------

    /**
     * core.c: __sched_setscheduler() for the policies a workload uses: SCHED_NORMAL, _BATCH,
     * _IDLE, _EXT, and _FIFO / _RR (at one fixed RT priority; SCHED_DEADLINE needs parameters the
     * emulator does not model). A task moving between classes goes through the sched_change
     * pattern ({@link #changeClass}: sched_ext's switching_to / switched_from, enable / disable);
     * a change of policy inside one class only updates the policy and the weight.
     *
     * <p>Any thread holding no kernel lock (a task's behaviour too: sched_setscheduler(0, ...)).
     *
     * @return 0; -EINVAL for an unsupported policy or the stopper; -ESRCH if the task has exited;
     *     -EACCES if sched_ext refuses SCHED_EXT to a task whose init_task set disallow
     */
    public int schedSetscheduler(Task p, int policy) {
        switch (policy) {
            case Task.SCHED_NORMAL:
            case Task.SCHED_BATCH:
            case Task.SCHED_IDLE:
            case Task.SCHED_EXT:
            case Task.SCHED_FIFO:
            case Task.SCHED_RR:
                break;
            default:
                return -EINVAL;
        }
        if (p == null || p.stopper) {
            return -EINVAL;
        }
        Rq rq = taskRqLock(p);
        try {
            if (p.laState() == Task.TASK_DEAD || p.scx.freed) {
                return -ESRCH;
            }
            int ret = ext.scxCheckSetscheduler(p, policy);
            if (ret != 0) {
                return ret;
            }
            if (policy == p.policy) {
                return 0;
            }
            p.policy = policy;
            // __setscheduler_params(): set_load_weight(), reweighting through the old class
            reweightTask(rq, p);
            // __setscheduler_prio() and the class change
            changeClass(rq, p, classFor(p));
            return 0;
        } finally {
            taskRqUnlock(rq, p);
        }
    }

    /**
     * core.c: set_user_nice(): in the sched_change pattern (dequeue SAVE / put_prev, then enqueue
     * RESTORE / set_next), the new nice takes effect through set_load_weight() (sched_ext's
     * reweight_task_scx(): p->scx.weight and ops.set_weight for a task in the ext class).
     *
     * @return 0; -EINVAL for a nice outside -20..19; -ESRCH if the task has exited
     */
    public int setUserNice(Task p, int nice) {
        if (nice < -20 || nice > 19) {
            return -EINVAL;
        }
        Rq rq = taskRqLock(p);
        try {
            if (p.laState() == Task.TASK_DEAD || p.scx.freed) {
                return -ESRCH;
            }
            if (p.nice == nice) {
                return 0;
            }
            boolean queued = p.laOnRq() == Task.TASK_ON_RQ_QUEUED;
            boolean running = rq.curr == p;
            if (queued) {
                dequeueTask(rq, p, DEQUEUE_SAVE | DEQUEUE_NOCLOCK);
            }
            if (running) {
                putPrevTask(rq, p);
            }
            p.nice = nice;
            reweightTask(rq, p);
            if (queued) {
                enqueueTask(rq, p, ENQUEUE_RESTORE | ENQUEUE_NOCLOCK);
            }
            if (running) {
                setNextTask(rq, p);
                p.runnableSince = -1; // still running: no wait accrues
            }
            return 0;
        } finally {
            taskRqUnlock(rq, p);
        }
    }

    /** core.c: set_load_weight(p, true): the class's reweight_task (only ext's is modelled). */
    private void reweightTask(Rq rq, Task p) {
        rq.assertHeld();
        if (p.schedClass == SchedClass.EXT) {
            ext.reweightTaskScx(rq, p);
        } else {
            p.scx.weight = Task.scxWeight(p.nice, p.policy);
        }
    }

    /** The --seed for bpf_get_prandom_u32(): set before the scheduler loads; any thread. */
    private volatile long prandomSeed;

    /** Seeds bpf_get_prandom_u32() (each CPU's stream derives from it); call before loading. */
    public void seedPrandom(long seed) {
        prandomSeed = seed;
    }

    long prandomSeed() {
        return prandomSeed;
    }
}
