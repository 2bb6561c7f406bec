// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.controlled;

import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.scxemu.kernel.Clock;
import org.scxemu.kernel.Ext;
import org.scxemu.kernel.KThread;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.KernelLock;
import org.scxemu.kernel.RacePoint;
import org.scxemu.kernel.Rq;
import org.scxemu.scx.Scx;

/**
 * Runs a machine's threads one at a time, handing the machine over at the core's race points
 * ({@link RacePoint}), with the next runner chosen by a seeded {@link Strategy}: the same seed
 * gives the same interleaving, the same trace and the same numbers, whatever the host's load.
 *
 * <h2>Participants</h2>
 * The threads that run kernel code, each a real platform thread running the real code:
 * <ul>
 *   <li>{@code cpu-N} (ids 0 .. N-1): one pass of the schedule loop ({@link Kernel#cpuLoopOnce})
 *       at a time. Between passes it is runnable when its last pass did work, when it has work
 *       ({@link Kernel#cpuHasWork}: need_resched, a kick, a kick wait) or when its next timer,
 *       tick or phase end is due ({@link Kernel#cpuWakeDeadline});
 *   <li>{@code scx-watchdog} (id N): the watchdog work, every {@code timeout / 2};
 *   <li>{@code sched_ext_ops_helper} (id N+1): the error/unload work (dump, disable), while an
 *       exit is pending (the kernel's helper is in manual mode);
 *   <li>{@code harness} (id N+2): actions the driver {@link #submit}s (a workload's forks, a
 *       stress run's chaos), which run under control like everything else.
 * </ul>
 * Inside a pass a participant hands over at every race point; at a lock acquisition it takes
 * the lock with {@code tryLock()} and, while that fails, hands over as blocked on the lock
 * ({@code lock_wait}): it is not runnable again until the lock is free. A participant that
 * finished a unit of work hands over at {@code pass}.
 *
 * <h2>Steps and time</h2>
 * One step is one choice of the next runner: whoever holds the turn at a hand-over (the
 * participant that reached a point, or the driver when {@link #runUntil} starts) checks the run's
 * stop conditions, picks a runnable participant, records the hand-over ({@link HandOverLog}),
 * calls the {@link HandOverListener} (every other participant is parked at that moment), advances
 * the simulated clock by {@link ControlledSpec#stepNs} and passes the turn straight to the chosen
 * participant, which runs to its next point. When nothing is runnable the clock jumps to the
 * earliest deadline (a timer, a tick, a phase end, the watchdog). Nothing here reads the host's
 * clock.
 *
 * <h2>Cheap hand-overs</h2>
 * The choice is made on the thread that hands over, not on the driver: a step that picks the
 * thread that is already running costs no thread switch at all, and one that picks another costs
 * one (the chosen thread is woken, the chooser parks), where a round trip through the driver cost
 * two. The driver gets the turn back only when {@link #runUntil} must return. On a JVM with
 * virtual threads ({@link Carriers}) the participants are virtual threads on one carrier, so a
 * thread switch is a continuation switch on that carrier rather than an OS wake-up; on Java 17
 * they are platform threads. Which kind runs them changes nothing else: the choices, the clock,
 * the log and every output are the same, because only the turn holder ever runs.
 *
 * <h2>Threads and memory consistency</h2>
 * The turn ({@link #turn}) says who may run: a participant, or the driver ({@code null}). It is
 * volatile and is the only hand-off: whoever gives the turn away writes {@code turn = next}
 * (release) and {@code next} reads it in {@link #awaitTurn} (acquire), or the driver reads
 * {@code turn == null} in {@link #resume} (acquire). So every kernel write made by whoever held
 * the turn is visible to whoever holds it next, and the kernel's state, read by the chooser or a
 * listener at a hand-over, is quiescent. Every other field here is owned by whoever holds the
 * turn, except {@link #abandoned} (volatile, written by the driver only when a run cannot go on).
 */
public final class Controller implements RacePoint.Hook {
    /** The controller's own hand-over points (RacePoint's are 0 .. NR_POINTS - 1). */
    static final int START = -1;
    static final int PASS = -2;
    static final int LOCK_WAIT = -3;
    static final int EXIT = -4;

    /** Why {@link #runUntil} returned. */
    public enum Stop {
        /** The condition became true. */
        CONDITION,
        /** Simulated time reached the limit. */
        TIME,
        /** The given number of steps was taken. */
        STEPS,
        /** The run's bound, {@link ControlledSpec#maxSteps}, was reached. */
        MAX_STEPS,
        /** A listener called {@link #requestStop}. */
        REQUESTED,
        /** A kernel BUG was reported ({@link Kernel#bug}). */
        BUG,
        /** Nothing can run any more: every participant waits for a lock or for nothing. */
        DEADLOCK;

        /** The name in the JSON summary: lower case. */
        public String jsonName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * Told about every hand-over, on the thread that holds the turn (the participant that handed
     * over, or the driver), while every other participant is parked.
     */
    @FunctionalInterface
    public interface HandOverListener {
        /**
         * @param step  the hand-over's number (1, 2, ...)
         * @param from  the participant that handed over (-1 for the first step)
         * @param point where it handed over ({@link Controller#pointName})
         * @param to    the participant about to run
         */
        void handOver(Controller c, long step, int from, int point, int to);
    }

    private static final int CPU = 0;
    private static final int WATCHDOG = 1;
    private static final int HELPER = 2;
    private static final int HARNESS = 3;

    /** Participant states. */
    private static final int NEW = 0;
    private static final int AT_TOP = 1;
    private static final int IN_WORK = 2;
    private static final int BLOCKED = 3;
    private static final int DONE = 4;

    /**
     * Spins before a waiting platform thread parks: the driver's wait for a short action is often
     * answered within microseconds. A virtual thread never spins: on one carrier its spin would
     * only delay the thread it waits for.
     */
    private static final int SPINS = 200;

    /** One participant. Every field is owned by whoever holds the turn (see the class comment). */
    private static final class Participant {
        final Controller owner;
        final int id;
        final int kind;
        final String name;
        final Rq rq;
        Thread thread;
        int state = NEW;
        int point = START;
        KernelLock blockedOn;
        /** CPU: the last pass's work (1 before the first pass, so that it runs once). */
        int lastWork = 1;

        Participant(Controller owner, int id, int kind, String name, Rq rq) {
            this.owner = owner;
            this.id = id;
            this.kind = kind;
            this.name = name;
            this.rq = rq;
        }
    }

    private static final ThreadLocal<Participant> SELF = new ThreadLocal<>();

    private final Kernel kernel;
    private final Clock.Manual clock;
    private final ControlledSpec spec;
    private final Strategy strategy;
    private final Participant[] parts;
    private final String[] names;
    private final int[] runnable;
    private final HandOverLog log;
    private final int nrCpus;
    /** Actions for the harness participant; turn-owned. */
    private final ArrayDeque<Runnable> actions = new ArrayDeque<>();
    private long actionsDone;
    private long actionsSubmitted;
    private HandOverListener listener;
    /** Whether the participants run on virtual threads ({@link Carriers}); set by {@link #start}. */
    private boolean virtual;
    /** The current {@link #runUntil}'s bounds, read by whoever chooses; turn-owned. */
    private BooleanSupplier until;
    private long untilNs;
    private long stepEnd;
    /** Why the run must return to the driver, set by the participant that gives the turn back. */
    private Stop stopResult;
    /** The participant the last choice picked; turn-owned. */
    private int chosen = -1;
    private long racePointHits;

    /** The participant that may run, or null when the driver has the turn. */
    private volatile Participant turn;
    /** Set when a run cannot go on: parked participants then run free to the end of their pass. */
    private volatile boolean abandoned;
    private boolean draining;
    private boolean started;
    private boolean stopped;
    private boolean stopRequested;
    private Thread driver;
    private long step;
    private long switches;
    private int last = -1;
    /** A choice made but not yet run (a listener asked to stop at that hand-over). */
    private int pending = -1;
    private long watchdogLastNs;

    public Controller(Kernel kernel, Clock.Manual clock, ControlledSpec spec) {
        if (kernel.clock != clock) {
            throw new IllegalArgumentException("the kernel must run on the controller's clock");
        }
        this.kernel = kernel;
        this.clock = clock;
        this.spec = spec;
        this.nrCpus = kernel.nrCpus;
        int n = nrCpus + 3;
        this.parts = new Participant[n];
        this.names = new String[n];
        for (int cpu = 0; cpu < nrCpus; cpu++) {
            parts[cpu] = new Participant(this, cpu, CPU, "cpu-" + cpu, kernel.rq(cpu));
        }
        parts[nrCpus] = new Participant(this, nrCpus, WATCHDOG, "scx-watchdog", null);
        parts[nrCpus + 1] = new Participant(this, nrCpus + 1, HELPER, "sched_ext_ops_helper", null);
        parts[nrCpus + 2] = new Participant(this, nrCpus + 2, HARNESS, "harness", null);
        for (int i = 0; i < n; i++) {
            names[i] = parts[i].name;
        }
        this.runnable = new int[n];
        this.strategy = Strategy.create(spec.strategy(), spec.seed(), n, spec.pctDepth(), spec.pctHorizon());
        this.log = new HandOverLog(names, spec.logCapacity());
    }

    /** The name of a hand-over point: a {@link RacePoint} name or the controller's own. */
    public static String pointName(int point) {
        switch (point) {
            case START:
                return "start";
            case PASS:
                return "pass";
            case LOCK_WAIT:
                return "lock_wait";
            case EXIT:
                return "exit";
            default:
                return RacePoint.name(point);
        }
    }

    public ControlledSpec spec() {
        return spec;
    }

    /** Hand-overs so far: the step number of the last one. */
    public long steps() {
        return step;
    }

    /** Race points reached by the participants (a lock wait counts once per retry). */
    public long racePointHits() {
        return racePointHits;
    }

    /** Whether the participants run on virtual threads (see {@link Carriers}). */
    public boolean virtualThreads() {
        return virtual;
    }

    /** Hand-overs that gave the machine to another participant than the one that handed over. */
    public long switches() {
        return switches;
    }

    /** The recent hand-overs. */
    public HandOverLog log() {
        return log;
    }

    /** How many participants there are; ids are 0 .. participants() - 1, CPUs first. */
    public int participants() {
        return parts.length;
    }

    public String participantName(int id) {
        return names[id];
    }

    /** Simulated now. */
    public long nowNs() {
        return clock.nanoTime();
    }

    /** {@code "seed S, step N"}: what a report prints so the run can be replayed. */
    public String where() {
        return "seed " + spec.seed() + ", step " + step;
    }

    /** Sets the listener called at every hand-over (driver thread; null for none). */
    public void onHandOver(HandOverListener l) {
        listener = l;
    }

    /** From a listener: {@link #runUntil} returns {@link Stop#REQUESTED} before the chosen participant runs. */
    public void requestStop() {
        stopRequested = true;
    }

    /**
     * Queues {@code action} for the harness participant, which runs it under control like any
     * kernel thread (it may fork, wake, change affinities; not hold a kernel lock across the
     * return). Driver thread, or a participant's action.
     */
    public void submit(Runnable action) {
        actions.add(action);
        actionsSubmitted++;
    }

    /** {@link #submit} and run until it is done (or the run stops for another reason). */
    public Stop runAction(Runnable action) {
        submit(action);
        long target = actionsSubmitted;
        return runUntil(() -> actionsDone >= target, Long.MAX_VALUE, Long.MAX_VALUE);
    }

    /**
     * Starts the participant threads, each parked until it first gets the turn, and installs the
     * race-point hook. At most one controlled machine per JVM runs at a time (the hook is global).
     */
    public void start() {
        if (started) {
            throw new IllegalStateException("already started");
        }
        if (RacePoint.installed()) {
            throw new IllegalStateException("a race-point hook is already installed (one controlled machine per JVM)");
        }
        started = true;
        driver = Thread.currentThread();
        watchdogLastNs = clock.nanoTime();
        RacePoint.install(this);
        virtual = Carriers.virtualAvailable();
        for (Participant p : parts) {
            Runnable body = () -> body(p);
            if (virtual) {
                p.thread = Carriers.newVirtual(p.name, body);
            } else {
                p.thread = p.kind == CPU ? new KThread(p.rq, body) : new Thread(body, p.name);
                p.thread.setDaemon(true);
            }
        }
        for (Participant p : parts) {
            p.thread.start();
        }
    }

    /**
     * Runs the machine, hand-over by hand-over, until {@code until} is true, simulated time
     * reaches {@code untilNs}, {@code steps} more steps were taken, or the run must stop (a BUG,
     * the step bound, a deadlock, a listener's request). Driver thread only.
     *
     * @param until   checked before every step, with the machine quiescent; null for none
     * @param untilNs a simulated time; {@code Long.MAX_VALUE} for none
     * @param steps   the most steps to take; {@code Long.MAX_VALUE} for no limit but the run's
     */
    public Stop runUntil(BooleanSupplier until, long untilNs, long steps) {
        if (!started || stopped) {
            throw new IllegalStateException("not running");
        }
        this.until = until;
        this.untilNs = untilNs;
        this.stepEnd = steps >= Long.MAX_VALUE - step ? Long.MAX_VALUE : step + steps;
        for (;;) {
            Stop s = checkStop();
            if (s != null) {
                return s;
            }
            int p;
            if (pending >= 0) {
                p = pending;
                pending = -1;
            } else {
                s = choose();
                if (s != null) {
                    return s;
                }
                p = chosen;
            }
            // the participants now choose among themselves until one gives the turn back with a reason
            resume(parts[p]);
            s = stopResult;
            stopResult = null;
            if (s != null) {
                return s;
            }
            // a participant ended without a reason (it failed: a BUG): look again
        }
    }

    /** The checks made before the pending choice is run: null if the run goes on. Turn holder. */
    private Stop checkStop() {
        if (kernel.bug() != null) {
            return Stop.BUG;
        }
        if (stopRequested) {
            stopRequested = false;
            return Stop.REQUESTED;
        }
        if (until != null && until.getAsBoolean()) {
            return Stop.CONDITION;
        }
        return null;
    }

    /**
     * One step of {@link #runUntil}'s loop, on whoever holds the turn: the run's bounds, then a
     * choice ({@link #chosen}, with the clock advanced), or why the run must return. Returns null
     * when a participant was chosen. The first checks ({@link #checkStop}) are the caller's.
     */
    private Stop choose() {
        for (;;) {
            if (step >= spec.maxSteps()) {
                return Stop.MAX_STEPS;
            }
            if (step >= stepEnd) {
                return Stop.STEPS;
            }
            if (clock.nanoTime() >= untilNs) {
                return Stop.TIME;
            }
            int n = collectRunnable();
            if (n == 0) {
                long d = nextDeadline();
                if (d == Long.MAX_VALUE) {
                    return Stop.DEADLOCK;
                }
                if (d >= untilNs) {
                    clock.set(Math.max(untilNs, clock.nanoTime()));
                    return Stop.TIME;
                }
                clock.set(Math.max(d, clock.nanoTime()));
                Stop s = checkStop();
                if (s != null) {
                    return s;
                }
                continue;
            }
            if (handOver(n)) {
                stopRequested = false;
                return Stop.REQUESTED;
            }
            return null;
        }
    }

    /**
     * Lets every participant finish what it is doing (a pass, a watchdog run, the disable work),
     * still under control, then ends the threads and removes the hook. The kernel is told to stop
     * first ({@link Kernel#stop}), so spins give up. If they cannot finish (a deadlock), the
     * participants are let go to run free and are waited for, boundedly. Idempotent.
     */
    public void stop() {
        if (!started || stopped) {
            return;
        }
        stopped = true;
        draining = true;
        kernel.stop();
        long budget = step + 1_000_000L;
        for (;;) {
            boolean all = true;
            for (Participant p : parts) {
                all &= p.state == DONE;
            }
            if (all) {
                break;
            }
            if (pending >= 0) {
                int p = pending;
                pending = -1;
                resume(parts[p]);
                continue;
            }
            int n = collectRunnable();
            if (n == 0 || step >= budget) {
                abandon();
                break;
            }
            if (!handOver(n)) {
                resume(parts[chosen]);
            }
        }
        RacePoint.uninstall();
    }

    /** Whether {@link #stop} had to let participants go uncontrolled (the run was stuck). */
    public boolean abandoned() {
        return abandoned;
    }

    /** The {@code controlled} section of the JSON summary; {@code stoppedBy} says why the run ended. */
    public Map<String, Object> toJson(String stoppedBy) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("strategy", spec.strategy());
        if (Strategy.PCT.equals(spec.strategy())) {
            m.put("pct_depth", (long) spec.pctDepth());
            m.put("pct_horizon", spec.pctHorizon());
        }
        m.put("seed", spec.seed());
        m.put("steps", step);
        m.put("hand_overs", switches);
        m.put("step_ns", spec.stepNs());
        m.put("max_steps", spec.maxSteps());
        m.put("stopped_by", stoppedBy);
        return m;
    }

    // ---------------------------------------------------------------------------------------------
    // The driver side
    // ---------------------------------------------------------------------------------------------

    /**
     * Picks and records one step ({@link #chosen}); returns true if a listener asked to stop
     * before it ran (it is then {@link #pending}).
     */
    private boolean handOver(int n) {
        int next = strategy.pick(runnable, n, step + 1, last);
        step++;
        int point = last < 0 ? START : parts[last].point;
        if (next != last) {
            switches++;
        }
        log.add(step, clock.nanoTime(), last, point, next);
        if (listener != null) {
            listener.handOver(this, step, last, point, next);
        }
        clock.advance(spec.stepNs());
        last = next;
        if (stopRequested) {
            pending = next;
            return true;
        }
        chosen = next;
        return false;
    }

    private int collectRunnable() {
        int n = 0;
        for (Participant p : parts) {
            if (isRunnable(p)) {
                runnable[n++] = p.id;
            }
        }
        return n;
    }

    private boolean isRunnable(Participant p) {
        switch (p.state) {
            case DONE:
                return false;
            case IN_WORK:
                return true;
            case BLOCKED:
                return !p.blockedOn.isLocked();
            default: // NEW, AT_TOP: ready for its next unit of work, or to exit when draining
                if (draining) {
                    return true;
                }
                return hasWork(p);
        }
    }

    private boolean hasWork(Participant p) {
        Ext ext = kernel.ext;
        switch (p.kind) {
            case CPU:
                return p.lastWork > 0 || kernel.cpuHasWork(p.rq) || clock.nanoTime() >= kernel.cpuWakeDeadline(p.rq);
            case WATCHDOG:
                return clock.nanoTime() - watchdogLastNs >= ext.watchdogIntervalNs();
            case HELPER: {
                int k = ext.exitKind();
                return k != Scx.SCX_EXIT_NONE && k != Scx.SCX_EXIT_DONE;
            }
            default:
                return !actions.isEmpty();
        }
    }

    /** The earliest time at which an idle participant becomes runnable, or MAX_VALUE. */
    private long nextDeadline() {
        long d = Long.MAX_VALUE;
        for (Participant p : parts) {
            if (p.state != AT_TOP && p.state != NEW) {
                continue;
            }
            if (p.kind == CPU) {
                d = Math.min(d, kernel.cpuWakeDeadline(p.rq));
            } else if (p.kind == WATCHDOG) {
                d = Math.min(d, watchdogLastNs + kernel.ext.watchdogIntervalNs());
            }
        }
        return d;
    }

    /** Gives {@code p} the turn and waits until it hands it back. */
    private void resume(Participant p) {
        turn = p; // release: pairs with the acquire read in awaitTurn()
        LockSupport.unpark(p.thread);
        int spins = 0;
        // acquire: pairs with the participant's release of the turn in handBack() / body()
        while (turn != null) {
            if (spins < SPINS && !virtual) {
                spins++;
                Thread.onSpinWait();
            } else {
                LockSupport.park(this);
            }
        }
    }

    /** The run is stuck: let every participant run free to its exit, and wait a bounded while. */
    private void abandon() {
        abandoned = true;
        for (Participant p : parts) {
            LockSupport.unpark(p.thread);
        }
        for (Participant p : parts) {
            try {
                p.thread.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // The participant side
    // ---------------------------------------------------------------------------------------------

    private void body(Participant me) {
        SELF.set(me);
        try {
            awaitTurn(me);
            while (!draining && !abandoned) {
                me.state = IN_WORK;
                switch (me.kind) {
                    case CPU:
                        // a virtual thread is no KThread: step() binds the CPU's context for the pass
                        me.lastWork = virtual ? kernel.step(me.rq.cpu) : kernel.cpuLoopOnce(me.rq);
                        break;
                    case WATCHDOG:
                        watchdogLastNs = clock.nanoTime();
                        kernel.ext.watchdogWorkfn();
                        break;
                    case HELPER:
                        kernel.ext.runHelperWork();
                        break;
                    default: {
                        Runnable r = actions.poll();
                        if (r != null) {
                            r.run();
                            actionsDone++;
                        }
                        break;
                    }
                }
                me.state = AT_TOP;
                me.point = PASS;
                handBack(me);
            }
        } catch (RuntimeException | Error e) {
            kernel.reportBug(e);
        } finally {
            me.state = DONE;
            me.point = EXIT;
            SELF.remove();
            if (!abandoned) {
                turn = null; // release: pairs with the acquire read in resume()
                LockSupport.unpark(driver);
            }
        }
    }

    /** Waits for the turn (or for the run to be abandoned). */
    private void awaitTurn(Participant me) {
        int spins = 0;
        // acquire: pairs with the driver's release in resume()
        while (turn != me) {
            if (abandoned) {
                return;
            }
            if (spins < SPINS && !virtual) {
                spins++;
                Thread.onSpinWait();
            } else {
                LockSupport.park(this);
            }
        }
    }

    /**
     * A hand-over by {@code me} (its point and state already set): while draining, the turn goes
     * back to the driver, which chooses; otherwise {@code me} makes the step's choice itself and
     * goes on at once if it chose itself, gives the turn to the chosen participant, or gives it
     * back to the driver with the reason the run must return. Then it waits until the turn is
     * its own again.
     */
    private void handBack(Participant me) {
        if (draining) {
            turn = null; // release: pairs with the acquire read in resume()
            LockSupport.unpark(driver);
            awaitTurn(me);
            return;
        }
        Stop s = checkStop();
        if (s == null && pending >= 0) {
            // only the driver leaves a choice pending (a listener's stop request); it is not ours
            throw new IllegalStateException("controller: a pending choice outside runUntil");
        }
        if (s == null) {
            s = choose();
        }
        if (s != null) {
            stopResult = s;
            turn = null; // release: pairs with the acquire read in resume()
            LockSupport.unpark(driver);
            awaitTurn(me);
            return;
        }
        Participant next = parts[chosen];
        if (next == me) {
            return;
        }
        turn = next; // release: pairs with the acquire read in next's awaitTurn()
        LockSupport.unpark(next.thread);
        awaitTurn(me);
    }

    /** The participant running on this thread, if it belongs to this controller and runs under it. */
    private Participant self() {
        Participant me = SELF.get();
        return me == null || me.owner != this || abandoned ? null : me;
    }

    @Override
    public void at(int point) {
        Participant me = self();
        if (me == null) {
            return; // a thread outside the run (the driver before start, a test): not controlled
        }
        me.point = point;
        racePointHits++;
        handBack(me);
    }

    @Override
    public boolean acquire(KernelLock lock) {
        Participant me = self();
        if (me == null) {
            return false;
        }
        while (!lock.tryLock()) {
            if (abandoned) {
                return false;
            }
            me.state = BLOCKED;
            me.blockedOn = lock;
            me.point = LOCK_WAIT;
            handBack(me);
        }
        me.state = IN_WORK;
        me.blockedOn = null;
        return true;
    }
}
