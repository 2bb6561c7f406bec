// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.scxemu.kernel.ScxConsts.SCX_ENQ_REENQ;
import static org.scxemu.kernel.ScxConsts.SCX_EXIT_NONE;
import static org.scxemu.kernel.ScxConsts.SCX_OPSS_DISPATCHING;
import static org.scxemu.kernel.ScxConsts.SCX_OPSS_NONE;
import static org.scxemu.kernel.ScxConsts.SCX_OPSS_QSEQ_MASK;
import static org.scxemu.kernel.ScxConsts.SCX_OPSS_QUEUED;
import static org.scxemu.kernel.ScxConsts.SCX_OPSS_QUEUEING;
import static org.scxemu.kernel.ScxConsts.SCX_OPSS_STATE_MASK;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code ./scx-emu stress}'s invariant checker: it listens to the kernel's trace points (it is
 * the kernel's {@link Tracer}) and checks, as each event happens, the seed's protocol and the
 * core's state machines; and, from the stress runner's thread, the whole machine's state at
 * moments when it holds every rq lock ({@link #checkQuiescent}). The first violation is kept,
 * with the CPUs' recent events, and ends the run.
 *
 * <p>Invariants (the names the report and the JSON use):
 * <ul>
 *   <li>{@code conservation}: every live task is in exactly one place: running on one CPU, on one
 *       DSQ (and its {@code p->scx.dsq} says so), owned by the scheduler or in flight (ops state
 *       QUEUEING/QUEUED/DISPATCHING, {@code holding_cpu} set, or TASK_ON_RQ_MIGRATING), or
 *       sleeping; no sleeping or non-ext task on a DSQ; no task current on two CPUs.
 *   <li>{@code affinity}: no task is switched to on a CPU outside its allowed mask.
 *   <li>{@code release_acquire}: per CPU, releases and acquires alternate starting with a
 *       release; no ext task is switched to on a CPU between its release and its acquire.
 *   <li>{@code cpu_release_missed}: a CPU runs a task of a class above ext, picked while the
 *       feature was on, with ext tasks waiting in its local DSQ, and {@code cpu_released} is
 *       false: the scheduler was never told the CPU was taken (the 6.12 race: the rq lock is
 *       dropped in the remote consume after {@code cpu_acquire}, an RT task is woken there and
 *       picked, and no switch_class() runs because prev was not an ext task).
 *   <li>{@code reenqueue_context}: {@code scx_bpf_reenqueue_local()} only inside
 *       {@code ops.cpu_release()}; every {@code SCX_ENQ_REENQ} enqueue inside a reenqueue.
 *   <li>{@code ops_state}: ops-state transitions only along ext.c's edges
 *       (NONE→QUEUEING→QUEUED→DISPATCHING→NONE, QUEUEING→NONE, QUEUED→NONE, and NONE→NONE
 *       for a select_cpu() direct dispatch), qseq kept.
 *   <li>{@code pnt_seq}: a CPU's {@code pnt_seq} never decreases.
 *   <li>{@code kick_wait}: a CPU spinning in SCX_KICK_WAIT on a target that has switched tasks
 *       twice since the kick while its {@code pnt_seq} did not move (the 6.12 race: the target
 *       goes from ext task to ext task and never bumps it).
 *   <li>{@code ownership}: {@code ops.dispatch()} dispatches only tasks the scheduler was given
 *       by {@code ops.enqueue()} (the kernel drops the others silently; a scheduler doing it has
 *       a bug the kernel cannot see).
 *   <li>{@code liveness}: no runnable ext task waits longer than the watchdog allows while the
 *       scheduler stays enabled (by default: its timeout, plus the scan interval and slack), or
 *       than a stricter stall limit given by the user.
 * </ul>
 *
 * <p>Threads: the event methods run on the CPU threads (and, for enqueues from wakeups and
 * forks, on other threads), under the rq lock the kernel holds there. Per-CPU state
 * ({@code released}, {@code inRelease}, {@code inReenqueue}, {@code lastPntSeq},
 * {@code pickedUnderKey}) is owned by that CPU's thread: the kernel emits those events only on
 * the CPU's own thread with its rq lock held. The history rings are per emitting thread (one per
 * CPU, one shared and locked for other threads) and read by the report after the CPU threads
 * were joined. {@code running}, {@code given} and the counters are concurrent.
 *
 * <p>Memory consistency effects: {@link #violation()} returns the first violation, published by
 * a CAS; everything the detecting thread wrote before it is visible to a thread that reads it.
 */
public final class InvariantChecker implements Tracer {
    /** The invariants' names, as the report and the JSON give them. */
    public static final List<String> INVARIANTS = List.of("conservation", "affinity", "release_acquire",
            "cpu_release_missed", "reenqueue_context", "ops_state", "pnt_seq", "kick_wait", "ownership", "liveness");

    /** One invariant violation. */
    public static final class Violation {
        public final String invariant;
        public final String message;
        public final List<Integer> cpus;
        /** "comm[pid]" or empty. */
        public final String task;
        public final long atNs;

        Violation(String invariant, String message, List<Integer> cpus, Task task, long atNs) {
            this.invariant = invariant;
            this.message = message;
            this.cpus = cpus;
            this.task = task == null ? "" : task.comm + "[" + task.pid + "]";
            this.atNs = atNs;
        }

        @Override
        public String toString() {
            return invariant + ": " + message;
        }
    }

    private static final int RING = 24;
    private static final int EV_SWITCH = 0;
    private static final int EV_RELEASE = 1;
    private static final int EV_ACQUIRE = 2;
    private static final int EV_KICK = 3;
    private static final int EV_REENQ = 4;
    private static final int EV_ENQ = 5;
    private static final int EV_DISPATCH = 6;
    private static final int EV_OPSS = 7;
    private static final int EV_TICK = 8;
    private static final int EV_KWAIT = 9;
    private static final int EV_REL_BEGIN = 10;
    private static final int EV_REENQ_BEGIN = 11;
    private static final int EV_PICK = 12;

    /** The recent events of one emitting thread. */
    private static final class Ring {
        final long[] ns = new long[RING];
        final int[] type = new int[RING];
        final Task[] task = new Task[RING];
        final Task[] task2 = new Task[RING];
        final long[] arg = new long[RING];
        final long[] arg2 = new long[RING];
        int pos;

        void add(long now, int t, Task p, Task q, long a, long b) {
            int i = pos++ % RING;
            ns[i] = now;
            type[i] = t;
            task[i] = p;
            task2[i] = q;
            arg[i] = a;
            arg2[i] = b;
        }
    }

    private final int nrCpus;
    private final long stallLimitNs;
    private volatile Kernel kernel;
    private final AtomicReference<Violation> first = new AtomicReference<>();
    /**
     * Set by the thread whose violation won (after its CAS): the history rings stop recording, so
     * they end at the violation (give or take the events other CPUs were recording meanwhile).
     */
    private volatile boolean frozen;
    private final AtomicLong violations = new AtomicLong();
    private final LongAdder checked = new LongAdder();
    private final LongAdder quiescentChecks = new LongAdder();

    // per-CPU, owned by the CPU's thread (see the class comment)
    private final boolean[] released;
    private final boolean[] inRelease;
    private final boolean[] inReenqueue;
    private final boolean[] pickedUnderKey;
    /** The class of prev at the CPU's last pick of a task above ext (owned by the CPU thread). */
    private final SchedClass[] prevClassAtPick;
    private final long[] lastPntSeq;
    private final Ring[] rings;
    /** Events from threads that are not CPUs; guarded by itself. */
    private final Ring otherRing = new Ring();

    /** task -&gt; the CPU it was last switched to and not yet switched out of; any thread. */
    private final ConcurrentHashMap<Task, Integer> running = new ConcurrentHashMap<>();
    /** Tasks ops.enqueue() has been given at least once; any thread. */
    private final Set<Task> given = ConcurrentHashMap.newKeySet();

    /**
     * @param nrCpus       the machine's CPUs
     * @param stallLimitNs the liveness bound for a runnable ext task's wait; 0 for the watchdog's:
     *                     the loaded scheduler's timeout plus the half-timeout scan interval and a
     *                     second of slack, past which the watchdog should have ejected it
     */
    public InvariantChecker(int nrCpus, long stallLimitNs) {
        this.nrCpus = nrCpus;
        this.stallLimitNs = stallLimitNs;
        released = new boolean[nrCpus];
        inRelease = new boolean[nrCpus];
        inReenqueue = new boolean[nrCpus];
        pickedUnderKey = new boolean[nrCpus];
        prevClassAtPick = new SchedClass[nrCpus];
        lastPntSeq = new long[nrCpus];
        rings = new Ring[nrCpus];
        for (int i = 0; i < nrCpus; i++) {
            rings[i] = new Ring();
        }
    }

    /** Binds the checker to the kernel it traces (the kernel takes the tracer at construction). */
    public void attach(Kernel k) {
        if (k.nrCpus != nrCpus) {
            throw new IllegalArgumentException("checker for " + nrCpus + " CPUs, kernel has " + k.nrCpus);
        }
        this.kernel = k;
    }

    /** The first violation, or null. */
    public Violation violation() {
        return first.get();
    }

    /** Violations seen (the run stops at the first, but others may race it). */
    public long violations() {
        return violations.get();
    }

    /** Checks made so far. */
    public long checked() {
        return checked.sum();
    }

    /** Whole-machine checks made so far (each covers every live task). */
    public long quiescentChecks() {
        return quiescentChecks.sum();
    }

    private void violate(String invariant, String message, Task p, Integer... cpus) {
        violations.incrementAndGet();
        Kernel k = kernel;
        if (first.compareAndSet(null, new Violation(invariant, message, List.of(cpus), p, k == null ? 0 : k.now()))) {
            // keep the events that led here: the machine runs on until the runner stops it
            frozen = true;
        }
    }

    /** A violation the harness found (the run's own liveness), recorded like the others. */
    public void violateFromHarness(String invariant, String message) {
        checked.increment();
        violate(invariant, message, null);
    }

    private Ring ring(int cpu) {
        return cpu >= 0 && cpu < nrCpus ? rings[cpu] : null;
    }

    private void record(int cpu, long now, int type, Task p, Task q, long a, long b) {
        if (frozen) {
            return;
        }
        Ring r = ring(cpu);
        if (r != null) {
            r.add(now, type, p, q, a, b);
        } else {
            synchronized (otherRing) {
                otherRing.add(now, type, p, q, a, b);
            }
        }
    }

    private long now() {
        Kernel k = kernel;
        return k == null ? 0 : k.now();
    }

    private boolean scxOn() {
        Kernel k = kernel;
        return k != null && k.ext.enableState() == Ext.SCX_OPS_ENABLED && k.ext.exitKind() == SCX_EXIT_NONE;
    }

    // =============================================================================================
    // Events (CPU threads, under the rq lock where the kernel holds it)
    // =============================================================================================

    @Override
    public void sched_switch(int cpu, long nowNs, Task prev, Task next) {
        record(cpu, nowNs, EV_SWITCH, prev, next, 0, 0);
        Kernel k = kernel;
        if (k == null) {
            return;
        }
        Rq rq = k.rqs[cpu];
        checked.add(3);
        if (prev != rq.idle) {
            running.remove(prev, cpu);
        }
        if (next != rq.idle) {
            Integer other = running.put(next, cpu);
            if (other != null && other != cpu) {
                violate("conservation", String.format(Locale.ROOT, "%s[%d] switched to on CPU %d while still current "
                        + "on CPU %d", next.comm, next.pid, cpu, other), next, cpu, other);
            }
            if (!next.cpusAllowed.test(cpu)) {
                violate("affinity", String.format(Locale.ROOT, "%s[%d] switched to on CPU %d outside its allowed "
                        + "CPUs %s", next.comm, next.pid, cpu, next.cpusAllowed), next, cpu);
            }
        }
        boolean feature = scxOn() && k.ext.cpuPreemptEnabled();
        if (next.schedClass == SchedClass.EXT && feature && rq.scx.lpCpuReleased()) {
            violate("release_acquire", String.format(Locale.ROOT, "ext task %s[%d] switched to on CPU %d between its "
                    + "cpu_release and its cpu_acquire", next.comm, next.pid, cpu), next, cpu);
        }
    }

    @Override
    public void pick(int cpu, Task prev, Task next) {
        Kernel k = kernel;
        if (k == null) {
            return;
        }
        checked.add(2);
        Rq rq = k.rqs[cpu];
        if (next.schedClass.above(SchedClass.EXT)) {
            record(cpu, k.now(), EV_PICK, prev, next,
                    rq.scx.lockDroppedSinceAcquire && !rq.scx.lpCpuReleased() ? 1 : 0, 0);
            pickedUnderKey[cpu] = scxOn() && k.ext.cpuPreemptEnabled() && ScxKeys.HAS_CPU_RELEASE.enabled();
            prevClassAtPick[cpu] = prev.schedClass;
        }
        checkPntSeq(rq);
        checkReleaseMissed(rq, next);
    }

    @Override
    public void tick(int cpu, Task curr) {
        Kernel k = kernel;
        if (k == null) {
            return;
        }
        checked.add(2);
        Rq rq = k.rqs[cpu];
        checkPntSeq(rq);
        checkReleaseMissed(rq, curr);
    }

    private void checkPntSeq(Rq rq) {
        long seq = rq.scx.lpPntSeq();
        if (seq < lastPntSeq[rq.cpu]) {
            violate("pnt_seq", String.format(Locale.ROOT, "CPU %d pnt_seq went back from %d to %d", rq.cpu,
                    lastPntSeq[rq.cpu], seq), null, rq.cpu);
        }
        lastPntSeq[rq.cpu] = seq;
    }

    private void checkReleaseMissed(Rq rq, Task curr) {
        if (!curr.schedClass.above(SchedClass.EXT) || !pickedUnderKey[rq.cpu] || !scxOn()) {
            return;
        }
        int nr = rq.scx.localDsq.lpNr();
        if (nr > 0 && !rq.scx.lpCpuReleased()) {
            Task waiting = rq.scx.localDsq.first();
            SchedClass prevClass = prevClassAtPick[rq.cpu];
            String prevName = prevClass == null ? "?" : prevClass.name().toLowerCase(Locale.ROOT);
            String why;
            if (rq.scx.lockDroppedSinceAcquire) {
                why = "balance dropped the rq lock after cpu_acquire (remote consume or cross-CPU dispatch), the "
                        + "higher-class task was enqueued meanwhile and picked, and prev was " + prevName
                        + " so no switch_class() sent the release";
            } else {
                why = "prev was " + prevName + ", and the release is only sent by switch_class() on a switch from "
                        + "an ext task";
            }
            violate("cpu_release_missed", String.format(Locale.ROOT, "CPU %d runs %s %s[%d] with %d ext task(s) in "
                    + "its local DSQ (first %s[%d]) and cpu_released=0: ops.cpu_release() was not called (%s)",
                    rq.cpu, curr.schedClass.name().toLowerCase(Locale.ROOT), curr.comm, curr.pid, nr,
                    waiting.comm, waiting.pid, why), waiting, rq.cpu);
        }
    }

    @Override
    public void cpu_release_begin(int cpu) {
        record(cpu, now(), EV_REL_BEGIN, null, null, 0, 0);
        if (cpu >= 0 && cpu < nrCpus) {
            inRelease[cpu] = true;
        }
    }

    @Override
    public void cpu_release(int cpu, long nowNs, int reason, Task next) {
        record(cpu, nowNs, EV_RELEASE, next, null, reason, 0);
        checked.increment();
        inRelease[cpu] = false;
        if (released[cpu]) {
            violate("release_acquire", String.format(Locale.ROOT, "CPU %d: a second cpu_release without a "
                    + "cpu_acquire in between", cpu), next, cpu);
        }
        released[cpu] = true;
    }

    @Override
    public void cpu_acquire(int cpu, long nowNs) {
        record(cpu, nowNs, EV_ACQUIRE, null, null, 0, 0);
        checked.increment();
        if (!released[cpu]) {
            violate("release_acquire", String.format(Locale.ROOT, "CPU %d: cpu_acquire without a preceding "
                    + "cpu_release", cpu), null, cpu);
        }
        released[cpu] = false;
    }

    @Override
    public void kick(int cpu, long nowNs, int target, long flags) {
        record(cpu, nowNs, EV_KICK, null, null, target, flags);
    }

    @Override
    public void reenqueue_begin(int cpu) {
        record(cpu, now(), EV_REENQ_BEGIN, null, null, 0, 0);
        checked.increment();
        if (cpu < 0 || cpu >= nrCpus || !inRelease[cpu]) {
            violate("reenqueue_context", "scx_bpf_reenqueue_local() called on CPU " + cpu
                    + " outside ops.cpu_release()", null, cpu);
            return;
        }
        inReenqueue[cpu] = true;
    }

    @Override
    public void reenqueue(int cpu, long nowNs, int nr) {
        record(cpu, nowNs, EV_REENQ, null, null, nr, 0);
        if (cpu >= 0 && cpu < nrCpus) {
            inReenqueue[cpu] = false;
        }
    }

    @Override
    public void enqueue(int cpu, Task p, long enqFlags) {
        record(cpu, now(), EV_ENQ, p, null, enqFlags, 0);
        given.add(p);
        if ((enqFlags & SCX_ENQ_REENQ) != 0) {
            checked.increment();
            if (cpu < 0 || cpu >= nrCpus || !inReenqueue[cpu]) {
                violate("reenqueue_context", String.format(Locale.ROOT, "%s[%d] enqueued with SCX_ENQ_REENQ on CPU %d "
                        + "outside scx_bpf_reenqueue_local()", p.comm, p.pid, cpu), p, cpu);
            }
        }
    }

    @Override
    public void dispatch(int cpu, Task p, long dsqId) {
        record(cpu, now(), EV_DISPATCH, p, null, dsqId, 0);
        checked.increment();
        if (!given.contains(p)) {
            violate("ownership", String.format(Locale.ROOT, "ops.dispatch() on CPU %d dispatched %s[%d] (class %s) "
                    + "to 0x%x, a task ops.enqueue() never gave the scheduler", cpu, p.comm, p.pid,
                    p.schedClass.name().toLowerCase(Locale.ROOT), dsqId), p, cpu);
        }
    }

    @Override
    public void ops_state_clear(Task p) {
        ops_state(p, p.scx.readOnceOpsState(), SCX_OPSS_NONE);
    }

    @Override
    public void ops_state(Task p, long from, long to) {
        ExecCtx ctx = ExecCtx.currentAny();
        int cpu = ctx == null ? -1 : ctx.cpu;
        record(cpu, now(), EV_OPSS, p, null, from, to);
        checked.increment();
        long f = from & SCX_OPSS_STATE_MASK;
        long t = to & SCX_OPSS_STATE_MASK;
        boolean ok;
        if (f == SCX_OPSS_NONE) {
            // NONE -> NONE: direct_dispatch() of a task select_cpu() dispatched before
            // do_enqueue_task() set QUEUEING stores NONE again (SCX_ENQ_CLEAR_OPSS)
            ok = t == SCX_OPSS_QUEUEING || t == SCX_OPSS_NONE;
        } else if (f == SCX_OPSS_QUEUEING) {
            ok = t == SCX_OPSS_NONE || t == SCX_OPSS_QUEUED && (from & SCX_OPSS_QSEQ_MASK) == (to & SCX_OPSS_QSEQ_MASK);
        } else if (f == SCX_OPSS_QUEUED) {
            ok = t == SCX_OPSS_NONE || t == SCX_OPSS_DISPATCHING;
        } else {
            ok = f == SCX_OPSS_DISPATCHING && t == SCX_OPSS_NONE;
        }
        if (!ok) {
            violate("ops_state", String.format(Locale.ROOT, "%s[%d] ops_state 0x%x -> 0x%x is not an edge of "
                    + "enum scx_ops_state", p.comm, p.pid, from, to), p, cpu);
        }
    }

    @Override
    public void kick_wait_spin(int cpu, Rq target, long pseq, long switches) {
        checked.increment();
        // acquire on the switch count first: if it moved twice, the first switch's pick (and the
        // pnt_seq bump it must make) happened before, so the acquire load below sees it
        long sw = target.getNrSwitchesAcquire();
        if (sw - switches >= 2 && target.scx.getPntSeqAcquire() == pseq) {
            record(cpu, now(), EV_KWAIT, null, null, target.cpu, sw - switches);
            violate("kick_wait", String.format(Locale.ROOT, "CPU %d is still in SCX_KICK_WAIT on CPU %d, which has "
                    + "switched tasks %d times since the kick without moving pnt_seq (%d)", cpu, target.cpu,
                    sw - switches, pseq), null, cpu, target.cpu);
        }
    }

    // =============================================================================================
    // Whole-machine checks (the stress runner's thread)
    // =============================================================================================

    /**
     * Takes every rq lock and every DSQ lock with try-locks (a CPU may be spinning with its rq
     * lock held until another CPU, blocked on one of ours, progresses: blocking here could
     * deadlock), checks conservation and liveness over every live task, and lets go.
     *
     * @return true if the check ran, false if a lock was busy (try again later)
     */
    public boolean checkQuiescent() {
        Kernel k = kernel;
        if (k == null) {
            return false;
        }
        List<Task> tasks = k.tasks(); // before any rq lock: fork takes the task list's lock
        List<KernelLock> held = new ArrayList<>();
        try {
            for (Rq rq : k.rqs) {
                if (!rq.lock.tryLock()) {
                    return false;
                }
                held.add(rq.lock);
            }
            List<Dsq> dsqs = new ArrayList<>();
            dsqs.add(k.ext.globalDsq);
            dsqs.addAll(k.ext.dsqHash.values());
            for (Dsq d : dsqs) {
                if (!d.lock.tryLock()) {
                    return false;
                }
                held.add(d.lock);
            }
            for (Rq rq : k.rqs) {
                dsqs.add(rq.scx.localDsq);
            }
            checkConservation(k, tasks, dsqs);
            quiescentChecks.increment();
            return true;
        } finally {
            for (int i = held.size() - 1; i >= 0; i--) {
                held.get(i).unlock();
            }
        }
    }

    private void checkConservation(Kernel k, List<Task> tasks, List<Dsq> dsqs) {
        Map<Task, Dsq> where = new IdentityHashMap<>();
        for (Dsq d : dsqs) {
            int n = 0;
            for (Task p = d.first(); p != null; p = p.scx.dsqNext) {
                checked.increment();
                Dsq other = where.put(p, d);
                if (other != null) {
                    violate("conservation", String.format(Locale.ROOT, "%s[%d] is on two DSQs: %s and %s", p.comm,
                            p.pid, other, d), p);
                    return;
                }
                if (++n > 1_000_000) {
                    violate("conservation", "DSQ " + d + " list does not end", null);
                    return;
                }
            }
        }
        Map<Task, Integer> current = new IdentityHashMap<>();
        for (Rq rq : k.rqs) {
            Task c = rq.curr;
            if (c == rq.idle) {
                continue;
            }
            Integer other = current.put(c, rq.cpu);
            if (other != null) {
                violate("conservation", String.format(Locale.ROOT, "%s[%d] is current on CPU %d and CPU %d", c.comm,
                        c.pid, other, rq.cpu), c, other, rq.cpu);
                return;
            }
        }
        boolean scxOn = scxOn() && !k.ext.scxOpsBypassing();
        long now = k.now();
        long timeout = k.ext.watchdogTimeoutNs;
        long limit = stallLimitNs > 0 ? stallLimitNs : timeout + timeout / 2 + 1_000_000_000L;
        for (Task p : tasks) {
            if (p.laState() == Task.TASK_DEAD || (p.pflags & Task.PF_IDLE) != 0) {
                continue;
            }
            checked.increment();
            Dsq on = where.get(p);
            Integer cpu = current.get(p);
            int onRq = p.laOnRq();
            if (on != null && p.scx.dsq != on) {
                violate("conservation", String.format(Locale.ROOT, "%s[%d] is on %s but p->scx.dsq is %s", p.comm,
                        p.pid, on, p.scx.dsq), p);
                return;
            }
            // unlink_dsq_and_lock_src_rq() unlinks first and leaves p->scx.dsq set while it
            // claims the task with holding_cpu and waits for the task's rq lock
            if (on == null && p.scx.dsq != null && p.scx.readOnceHoldingCpu() < 0) {
                violate("conservation", String.format(Locale.ROOT, "%s[%d] p->scx.dsq is %s but it is not on its list",
                        p.comm, p.pid, p.scx.dsq), p);
                return;
            }
            if (on != null && cpu != null) {
                violate("conservation", String.format(Locale.ROOT, "%s[%d] is current on CPU %d and queued on %s",
                        p.comm, p.pid, cpu, on), p, cpu);
                return;
            }
            if (on != null && (onRq == 0 || p.schedClass != SchedClass.EXT)) {
                violate("conservation", String.format(Locale.ROOT, "%s[%d] is on %s but is %s", p.comm, p.pid, on,
                        onRq == 0 ? "not runnable" : "of class " + p.schedClass), p);
                return;
            }
            if (p.schedClass != SchedClass.EXT || onRq != Task.TASK_ON_RQ_QUEUED || cpu != null || on != null) {
                continue;
            }
            // a runnable ext task that is neither running nor on a DSQ: the BPF scheduler must
            // own it, or it must be in flight between two places
            long opss = p.scx.readOnceOpsState() & SCX_OPSS_STATE_MASK;
            if (opss == SCX_OPSS_NONE && p.scx.readOnceHoldingCpu() < 0 && scxOn) {
                violate("conservation", String.format(Locale.ROOT, "%s[%d] is runnable on CPU %d but on no DSQ, not "
                        + "current, not owned by the scheduler (ops_state NONE) and not being moved: lost",
                        p.comm, p.pid, p.readOnceCpu()), p, p.readOnceCpu());
                return;
            }
        }
        if (!scxOn) {
            return;
        }
        for (Task p : tasks) {
            if (p.schedClass != SchedClass.EXT || p.laOnRq() != Task.TASK_ON_RQ_QUEUED || current.containsKey(p)
                    || p.runnableSince < 0) {
                continue;
            }
            long waited = now - p.runnableSince;
            if (waited > limit) {
                Dsq on = where.get(p);
                String place = on != null ? "on " + on : String.format(Locale.ROOT, "owned by the scheduler "
                        + "(ops_state 0x%x)", p.scx.readOnceOpsState());
                String bound = stallLimitNs > 0 ? "the stall limit is " + stallLimitNs / 1_000_000 + " ms"
                        : "the watchdog (timeout " + timeout / 1_000_000 + " ms) should have ejected the scheduler";
                violate("liveness", String.format(Locale.ROOT, "%s[%d] has been runnable for %d ms without running "
                        + "(%s, CPU %d); %s", p.comm, p.pid, waited / 1_000_000, place, p.readOnceCpu(), bound), p,
                        p.readOnceCpu());
                return;
            }
        }
    }

    // =============================================================================================
    // Report
    // =============================================================================================

    /**
     * The recent events of each CPU (and of other threads), oldest first, one per line, with
     * times in ns since {@code baseNs} on the kernel clock; after a violation they end there. Call
     * after the CPU threads have stopped.
     */
    public String history(long baseNs) {
        StringBuilder sb = new StringBuilder();
        for (int cpu = 0; cpu < nrCpus; cpu++) {
            appendRing(sb, "CPU " + cpu, rings[cpu], baseNs);
        }
        synchronized (otherRing) {
            appendRing(sb, "other threads", otherRing, baseNs);
        }
        return sb.toString();
    }

    private static void appendRing(StringBuilder sb, String title, Ring r, long baseNs) {
        if (r.pos == 0) {
            return;
        }
        sb.append(title).append(":\n");
        int n = Math.min(r.pos, RING);
        for (int j = r.pos - n; j < r.pos; j++) {
            int i = j % RING;
            sb.append(String.format(Locale.ROOT, "  %12d ns  ", r.ns[i] - baseNs)).append(describe(r, i)).append('\n');
        }
    }

    private static String t(Task p) {
        return p == null ? "-" : p.comm + "[" + p.pid + "]";
    }

    private static String describe(Ring r, int i) {
        long a = r.arg[i];
        long b = r.arg2[i];
        switch (r.type[i]) {
            case EV_SWITCH:
                return "sched_switch " + t(r.task[i]) + " -> " + t(r.task2[i]) + " (" + r.task2[i].schedClass + ")";
            case EV_PICK:
                return "pick " + t(r.task2[i]) + " (" + r.task2[i].schedClass + "), prev " + t(r.task[i])
                        + (a != 0 ? ", rq lock dropped in balance since cpu_acquire" : "");
            case EV_REL_BEGIN:
                return "ops.cpu_release() begins";
            case EV_RELEASE:
                return "cpu_release (reason " + a + ", next " + t(r.task[i]) + ")";
            case EV_ACQUIRE:
                return "cpu_acquire";
            case EV_KICK:
                return String.format(Locale.ROOT, "kick CPU %d flags 0x%x", a, b);
            case EV_REENQ_BEGIN:
                return "scx_bpf_reenqueue_local() begins";
            case EV_REENQ:
                return "scx_bpf_reenqueue_local() re-enqueued " + a;
            case EV_ENQ:
                return String.format(Locale.ROOT, "ops.enqueue(%s, 0x%x)", t(r.task[i]), a);
            case EV_DISPATCH:
                return String.format(Locale.ROOT, "dispatch %s -> 0x%x", t(r.task[i]), a);
            case EV_OPSS:
                return String.format(Locale.ROOT, "ops_state %s 0x%x -> 0x%x", t(r.task[i]), a, b);
            case EV_KWAIT:
                return String.format(Locale.ROOT, "SCX_KICK_WAIT on CPU %d: %d switches, pnt_seq unmoved", a, b);
            default:
                return "event " + r.type[i];
        }
    }

    /**
     * The kernel-format debug dump ({@code scx_dump_state()}), as SysRq-D would print it, headed
     * by the violation. Call with no rq lock held (the dump takes them).
     */
    public String dump(Violation v) {
        Kernel k = kernel;
        if (k == null) {
            return "";
        }
        ExitInfo ei = new ExitInfo();
        ei.kind = SCX_EXIT_NONE;
        ei.reason = "scx-emu stress";
        ei.msg = v == null ? "" : v.toString();
        ei.triggeredBy = "scx-stress";
        ei.atNs = k.now();
        return k.ext.dumpState(ei, k.ext.exitDumpLen);
    }
}
