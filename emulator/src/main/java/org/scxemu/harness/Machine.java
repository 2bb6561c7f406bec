// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;
import org.scxemu.harness.controlled.ControlledSpec;
import org.scxemu.harness.controlled.Controller;
import org.scxemu.kernel.Clock;
import org.scxemu.kernel.CoreProfile;
import org.scxemu.kernel.Ext;
import org.scxemu.kernel.KThread;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.Rq;
import org.scxemu.kernel.Tracer;
import org.scxemu.scx.SchedExtOps;

/**
 * An emulated machine: a {@link Kernel} with N CPUs, each driven either by its own platform
 * thread {@code cpu-N} (an Agrona-style agent runner: {@code doWork()} then an idle strategy),
 * stepped by a test with a manual clock, or run under a {@link Controller}: real threads, one at
 * a time, handing over at race points in an order the seed decides, on a simulated clock.
 *
 * <p>Threads: {@link #start} and {@link #stop} are called by one controlling thread. The CPU
 * threads own their {@link Rq}s' loop state. The watchdog thread runs the sched_ext watchdog
 * work every {@code timeout / 2}.
 */
public final class Machine implements AutoCloseable {
    private final Kernel kernel;
    private final boolean stepped;
    /** The controller of a controlled machine, else null. */
    private final Controller controller;
    private final KThread[] threads;
    private Thread watchdog;
    /** The watchdog's party slot on a {@link Clock.Warp} clock, else -1; set before it starts. */
    private int watchdogSlot = -1;
    private volatile boolean running;

    private Machine(Kernel kernel, boolean stepped) {
        this(kernel, stepped, null);
    }

    private Machine(Kernel kernel, boolean stepped, Controller controller) {
        this.kernel = kernel;
        this.stepped = stepped;
        this.controller = controller;
        this.threads = new KThread[kernel.nrCpus];
        if (stepped || controller != null) {
            kernel.ext.setManualHelper(true);
        }
    }

    /** A machine whose CPUs run on their own threads, on the host's monotonic clock. */
    public static Machine threaded(int cpus) {
        return threaded(cpus, Kernel.TICK_NS_DEFAULT, Tracer.NONE);
    }

    public static Machine threaded(int cpus, long tickNs, Tracer tracer) {
        return threaded(cpus, tickNs, tracer, CoreProfile.V7);
    }

    /** As {@link #threaded(int, long, Tracer)}, following {@code profile}'s sched_ext core. */
    public static Machine threaded(int cpus, long tickNs, Tracer tracer, CoreProfile profile) {
        return new Machine(new Kernel(cpus, Clock.host(), tickNs, tracer, profile), false);
    }

    /**
     * As {@link #threaded(int, long, Tracer, CoreProfile)}, with time compressed: {@code speed}
     * times ({@link Clock.Scaled}: every emulated wait is {@code 1 / speed} of it on the host), or
     * by skipping idle time for {@link Clock#WARP} ({@link Clock.Warp}: the CPU threads and the
     * watchdog are its parties). Speed 1 is the host clock, exactly as
     * {@link #threaded(int, long, Tracer, CoreProfile)}.
     */
    public static Machine threaded(int cpus, long tickNs, Tracer tracer, CoreProfile profile, long speed) {
        // warp parties: the CPU threads, the watchdog and one more (a stress run's chaos thread)
        Machine m = new Machine(new Kernel(cpus, Clock.compressed(speed, cpus + 2), tickNs, tracer, profile), false);
        if (m.kernel.clock instanceof Clock.Warp) {
            Kernel k = m.kernel;
            ((Clock.Warp) k.clock).setPending(() -> {
                for (int cpu = 0; cpu < k.nrCpus; cpu++) {
                    if (k.cpuHasWork(k.rq(cpu))) {
                        return true;
                    }
                }
                return false;
            });
        }
        return m;
    }

    /** The machine's skipping clock, or null if it has none. */
    private Clock.Warp warp() {
        return kernel.clock instanceof Clock.Warp ? (Clock.Warp) kernel.clock : null;
    }

    /** A machine stepped by hand on {@code clock}: nothing runs until {@link #step} is called. */
    public static Machine stepped(int cpus, Clock.Manual clock) {
        return stepped(cpus, clock, CoreProfile.V7);
    }

    /** As {@link #stepped(int, Clock.Manual)}, following {@code profile}'s sched_ext core. */
    public static Machine stepped(int cpus, Clock.Manual clock, CoreProfile profile) {
        return new Machine(new Kernel(cpus, clock, Kernel.TICK_NS_DEFAULT, Tracer.NONE, profile), true);
    }

    /**
     * A controlled machine: its CPU threads (and the watchdog and the ops helper) run one at a
     * time under a {@link Controller}, on a simulated clock starting at 0; the same {@code spec}
     * gives the same run. {@link #start} starts the parked threads, {@link #runFor} or the
     * controller's {@link Controller#runUntil} runs them, {@link #stop} drains them.
     */
    public static Machine controlled(int cpus, long tickNs, Tracer tracer, ControlledSpec spec) {
        return controlled(cpus, tickNs, tracer, CoreProfile.V7, spec);
    }

    /** As {@link #controlled(int, long, Tracer, ControlledSpec)}, following {@code profile}'s sched_ext core. */
    public static Machine controlled(int cpus, long tickNs, Tracer tracer, CoreProfile profile, ControlledSpec spec) {
        Clock.Manual clock = new Clock.Manual();
        Kernel k = new Kernel(cpus, clock, tickNs, tracer, profile);
        return new Machine(k, false, new Controller(k, clock, spec));
    }

    /** The controller of a controlled machine, or null. */
    public Controller controller() {
        return controller;
    }

    public Kernel kernel() {
        return kernel;
    }

    public Ext ext() {
        return kernel.ext;
    }

    /** Loads a scheduler: 0, or the negative errno the attach returns. */
    public int load(SchedExtOps ops) {
        int ret = kernel.ext.enable(ops);
        if (stepped || controller != null) {
            kernel.ext.awaitDisabledIfExiting();
        }
        return ret;
    }

    /** Unloads the loaded scheduler (SCX_EXIT_UNREG) and waits for the disable to finish. */
    public void unload() {
        kernel.ext.unload();
    }

    /** Starts the CPU threads and the watchdog. */
    public void start() {
        if (stepped) {
            throw new IllegalStateException("a stepped machine has no threads");
        }
        if (controller != null) {
            controller.start();
            return;
        }
        running = true;
        // Every CPU thread waits at the gate until all are started: a thread that began its loop
        // at once would compete for the host's cores with the thread starting the others, which
        // on a small host made start-up grow with the square of the CPU count (256 CPUs: seconds).
        CountDownLatch gate = new CountDownLatch(1);
        Clock.Warp warp = warp();
        for (int cpu = 0; cpu < threads.length; cpu++) {
            Rq rq = kernel.rq(cpu);
            int[] slot = {-1};
            KThread t = new KThread(rq, () -> {
                awaitGate(gate);
                cpuLoop(rq, slot[0]);
            });
            slot[0] = warp == null ? -1 : warp.register(t);
            threads[cpu] = t;
            kernel.attachThread(rq, t);
        }
        watchdog = new Thread(this::watchdogLoop, "scx-watchdog");
        watchdogSlot = warp == null ? -1 : warp.register(watchdog);
        for (KThread t : threads) {
            t.start();
        }
        gate.countDown();
        watchdog.setDaemon(true);
        watchdog.start();
    }

    /**
     * Under time compression, a wait shorter than this on the host is a yield, not a park: a
     * timed park rarely returns sooner than ~50 µs, which at speed 100 is 5 ms of emulated time
     * lost at every tick.
     */
    private static final long COMPRESSED_PARK_MIN_NS = 50_000L;
    /**
     * A skipping clock: the longest park of a waiting party. A skip wakes the parties whose
     * deadlines it reaches; one that parked for a longer host time than its deadline is away after
     * a skip is woken by the next party to wait, or by this bound if another stays busy meanwhile.
     */
    static final long WARP_PARK_MAX_NS = 1_000_000L;

    /** A CPU thread's first act: wait (uninterruptibly) until every CPU thread is started. */
    private static void awaitGate(CountDownLatch gate) {
        boolean interrupted = false;
        for (;;) {
            try {
                gate.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** The CPU thread: one pass of the schedule loop, then wait until there is work. */
    private void cpuLoop(Rq rq, int warpSlot) {
        Clock.Warp warp = warp();
        try {
            long speed = kernel.clock.speed();
            int spins = 0;
            while (running) {
                int work = kernel.cpuLoopOnce(rq);
                if (work > 0) {
                    spins = 0;
                    continue;
                }
                if (kernel.cpuHasWork(rq)) {
                    // spinning in SCX_KICK_WAIT: back off to let the target CPU's thread run
                    if (++spins > 64) {
                        Thread.yield();
                    } else {
                        Thread.onSpinWait();
                    }
                    continue;
                }
                if (warp != null) {
                    // skipping: say until when this CPU waits; the last party to wait may skip to it
                    long deadline = kernel.cpuWakeDeadline(rq);
                    warp.beginWait(warpSlot, deadline);
                    long w = deadline - kernel.now();
                    if (w > 0) {
                        // a later skip may bring the deadline closer than this park: bound the lateness
                        LockSupport.parkNanos(Math.min(w, WARP_PARK_MAX_NS));
                    }
                    warp.endWait(warpSlot);
                    continue;
                }
                long wait = kernel.cpuWakeDeadline(rq) - kernel.now();
                if (speed != 1) {
                    // compressed: the emulated wait is 1/speed of it on the host
                    wait /= speed;
                    if (wait < COMPRESSED_PARK_MIN_NS) {
                        Thread.yield();
                        continue;
                    }
                }
                if (wait > 0) {
                    LockSupport.parkNanos(Math.min(wait, 10_000_000L));
                }
            }
        } catch (RuntimeException | Error e) {
            kernel.reportBug(e);
        } finally {
            if (warp != null) {
                warp.unregister(warpSlot);
            }
        }
    }

    private void watchdogLoop() {
        long last = kernel.now();
        long speed = kernel.clock.speed();
        Clock.Warp warp = warp();
        while (running && warp != null) {
            // skipping: the watchdog waits for its next run on the emulated clock, as a party
            warp.beginWait(watchdogSlot, last + kernel.ext.watchdogIntervalNs());
            long w = last + kernel.ext.watchdogIntervalNs() - kernel.now();
            if (w > 0) {
                LockSupport.parkNanos(Math.min(w, WARP_PARK_MAX_NS));
            }
            warp.endWait(watchdogSlot);
            long now = kernel.now();
            if (now - last >= kernel.ext.watchdogIntervalNs()) {
                last = now;
                kernel.ext.watchdogWorkfn();
            }
        }
        if (warp != null) {
            warp.unregister(watchdogSlot);
            return;
        }
        while (running) {
            // compressed: look as often per emulated interval as an uncompressed run does
            LockSupport.parkNanos(speed == 1 ? 5_000_000L : Math.min(5_000_000L,
                    Math.max(COMPRESSED_PARK_MIN_NS, kernel.ext.watchdogIntervalNs() / 2 / speed)));
            long now = kernel.now();
            if (now - last >= kernel.ext.watchdogIntervalNs()) {
                last = now;
                kernel.ext.watchdogWorkfn();
            }
        }
    }

    /**
     * Runs the threads for {@code ns} of host time (start() first); a controlled machine for
     * {@code ns} of simulated time (or until it must stop, see {@link Controller#runUntil}).
     */
    public void runFor(long ns) {
        if (controller != null) {
            controller.runUntil(null, kernel.now() + ns, Long.MAX_VALUE);
            return;
        }
        long end = System.nanoTime() + ns;
        while (System.nanoTime() < end && kernel.bug() == null) {
            LockSupport.parkNanos(Math.min(end - System.nanoTime(), 10_000_000L));
        }
    }

    /** Stops the CPU threads and waits for them (bounded: it never hangs). */
    public void stop() {
        if (controller != null) {
            controller.stop();
            return;
        }
        running = false;
        kernel.stop();
        for (KThread t : threads) {
            if (t != null) {
                LockSupport.unpark(t);
            }
        }
        long deadline = System.nanoTime() + 5_000_000_000L; // one budget for all: a stuck op must not multiply it
        for (KThread t : threads) {
            if (t != null) {
                try {
                    t.join(Math.max(1L, (deadline - System.nanoTime()) / 1_000_000L));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        if (watchdog != null) {
            watchdog.interrupt();
        }
    }

    /** Stepping: one pass of CPU {@code cpu}'s loop on the calling thread. */
    public int step(int cpu) {
        return kernel.step(cpu);
    }

    /** Stepping: passes over every CPU until none has work left (at most {@code maxRounds}). */
    public int settle(int maxRounds) {
        int total = 0;
        for (int r = 0; r < maxRounds; r++) {
            int w = 0;
            for (int cpu = 0; cpu < kernel.nrCpus; cpu++) {
                w += kernel.step(cpu);
            }
            kernel.ext.runHelperWork();
            total += w;
            if (w == 0) {
                break;
            }
        }
        return total;
    }

    @Override
    public void close() {
        if (!stepped) {
            stop();
        }
        if (kernel.ext.enableState() != Ext.SCX_OPS_DISABLED) {
            kernel.ext.unload();
        }
    }
}
