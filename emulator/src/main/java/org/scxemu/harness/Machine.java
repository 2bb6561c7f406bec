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
        for (int cpu = 0; cpu < threads.length; cpu++) {
            Rq rq = kernel.rq(cpu);
            KThread t = new KThread(rq, () -> {
                awaitGate(gate);
                cpuLoop(rq);
            });
            threads[cpu] = t;
            kernel.attachThread(rq, t);
        }
        for (KThread t : threads) {
            t.start();
        }
        gate.countDown();
        watchdog = new Thread(this::watchdogLoop, "scx-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }

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
    private void cpuLoop(Rq rq) {
        try {
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
                long wait = kernel.cpuWakeDeadline(rq) - kernel.now();
                if (wait > 0) {
                    LockSupport.parkNanos(Math.min(wait, 10_000_000L));
                }
            }
        } catch (RuntimeException | Error e) {
            kernel.reportBug(e);
        }
    }

    private void watchdogLoop() {
        long last = kernel.now();
        while (running) {
            LockSupport.parkNanos(5_000_000L);
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
        for (KThread t : threads) {
            if (t != null) {
                try {
                    t.join(5_000);
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
