// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.scxemu.scx.Scx.SCX_EXIT_BT_LEN;
import static org.scxemu.scx.Scx.SCX_EXIT_ERROR;
import static org.scxemu.scx.Scx.SCX_EXIT_ERROR_STALL;
import static org.scxemu.scx.Scx.SCX_EXIT_NONE;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * The op watchdog: a BPF scheduler cannot loop or sleep in an op (the verifier and the
 * non-sleepable context forbid it), a Java one can. This monitor catches an op that has not
 * returned after a bound and ejects the scheduler with {@code SCX_EXIT_ERROR_STALL}, an exit
 * message naming the op, the CPU and the thread, and the stuck thread's Java stack as the exit
 * backtrace; then it interrupts that thread (a sleeping or waiting op wakes up with an
 * exception, which the op wrapper swallows). An op that never returns stays stuck, but the run
 * ends anyway: the runner sees {@link #stuck()} and stops waiting for the machine.
 *
 * <p>The bound is half the watchdog timeout ({@code ops.timeout_ms}, at most 30 s), but at least
 * {@link #BOUND_MIN_NS}: an op stuck that long would soon stall the tasks waiting behind it, and
 * the op is the cause worth naming, so it is caught before the task watchdog reports the effect.
 * Once the run's window has ended ({@link #runEnded}), an op still in flight
 * {@link #END_GRACE_NS} later is reported the same way: it is what holds up the end of the run,
 * and a run must not silently overrun its duration.
 *
 * <p>How it times an op without a clock read on the hot path: each {@link ExecCtx} publishes the
 * op it is in and an entry sequence number with opaque stores ({@link ExecCtx#opEnter}); this
 * monitor samples them every {@link #PERIOD_NS} and times an (op, sequence) pair from the first
 * sample that saw it, so the measured time is short of the real one by at most one period.
 *
 * <p>Threads: one daemon thread, {@code scx-op-watch}, owns the samples; {@link #stuck()} is
 * volatile (written once by that thread, read by the runner); {@link #runEnded()} and
 * {@link #close()} may be called from any thread.
 */
public final class OpWatch implements AutoCloseable {
    /** How often the op slots are sampled. */
    public static final long PERIOD_NS = 20_000_000L;
    /** The shortest bound (a GC pause is not a stuck op). */
    public static final long BOUND_MIN_NS = 50_000_000L;
    /** After the run's end, the longest an op may still run. */
    public static final long END_GRACE_NS = 1_000_000_000L;

    /** A stuck op, as reported. */
    public record Stuck(String op, int cpu, String thread, long inFlightNs, List<String> stack) {
        /** The fallback debug dump when the kernel's own could not be taken (the op holds the rq lock). */
        public String dumpText() {
            StringBuilder sb = new StringBuilder();
            sb.append("ops.").append(op).append("() stuck on ").append(cpu < 0 ? "no CPU" : "CPU " + cpu)
                    .append(" (thread ").append(thread).append(") for ").append(inFlightNs / 1_000_000L)
                    .append(" ms; the CPU states could not be dumped while it holds its locks\n\n");
            sb.append("Backtrace:\n");
            for (String l : stack) {
                sb.append("  ").append(l).append('\n');
            }
            return sb.toString();
        }
    }

    private final Kernel kernel;
    private final Thread thread;
    private volatile boolean closed;
    /** The host time the run's window ended, or 0 while it runs. */
    private volatile long endedAtNs;
    private volatile Stuck stuck;

    /** Per context: the (op, seq) last seen and when it was first seen. Monitor thread only. */
    private static final class Seen {
        int op;
        long seq;
        long sinceNs;
    }

    private final Map<ExecCtx, Seen> seen = new IdentityHashMap<>();

    private OpWatch(Kernel kernel) {
        this.kernel = kernel;
        this.thread = new Thread(this::loop, "scx-op-watch");
        this.thread.setDaemon(true);
    }

    /** Starts watching {@code kernel}'s op calls (a free-running machine). */
    public static OpWatch start(Kernel kernel) {
        OpWatch w = new OpWatch(kernel);
        w.thread.start();
        return w;
    }

    /** The run's window is over: from now on an op may run at most {@link #END_GRACE_NS} more. */
    public void runEnded() {
        endedAtNs = System.nanoTime() | 1L;
    }

    /** A fault of the scheduler's code, for an exit message: the throwable and the scheduler's frame that threw it. */
    public static String describe(Throwable t) {
        return t + ExtLifecycle.userFrame(t);
    }

    /** Whether some kernel in this JVM has a scheduler loaded (for tests that wait for a wedged run's end). */
    public static boolean schedulerLoaded() {
        return Ext.activeKernel() != null;
    }

    /** The op reported as stuck, or null. */
    public Stuck stuck() {
        return stuck;
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
    }

    private void loop() {
        while (!closed && stuck == null) {
            LockSupport.parkNanos(PERIOD_NS);
            sample(System.nanoTime());
        }
    }

    /** One pass over every context; fires on the first op over its bound. */
    void sample(long now) {
        // racy but benign: written once, at enable
        long bound = Math.max(BOUND_MIN_NS, kernel.ext.watchdogTimeoutNs / 2);
        long ended = endedAtNs;
        ExecCtx victim = null;
        long victimNs = 0;
        for (ExecCtx c : kernel.ctxs()) {
            int op = c.readOnceOpInFlight();
            long seq = c.readOnceOpSeq();
            Seen s = seen.get(c);
            if (s == null) {
                s = new Seen();
                seen.put(c, s);
            }
            if (op != s.op || seq != s.seq) {
                s.op = op;
                s.seq = seq;
                s.sinceNs = now;
                continue;
            }
            if (op == 0) {
                continue;
            }
            long inFlight = now - s.sinceNs;
            boolean overBound = inFlight > bound;
            boolean overEnd = ended != 0 && now - Math.max(ended, s.sinceNs) > END_GRACE_NS;
            if (overBound || overEnd) {
                if (!waitingForLock(threadOf(c))) {
                    fire(c, ScxOp.values()[op - 1], inFlight);
                    return;
                }
                if (victim == null) {
                    victim = c;
                    victimNs = inFlight;
                }
            }
        }
        if (victim != null) { // every late op waits for a lock: name the first of them
            int op = victim.readOnceOpInFlight();
            if (op != 0) {
                fire(victim, ScxOp.values()[op - 1], victimNs);
            }
        }
    }

    /**
     * Whether {@code t} is waiting to take a lock: then its op is late because another op holds
     * that lock, and the other one is the one to name.
     */
    private static boolean waitingForLock(Thread t) {
        if (t == null) {
            return false;
        }
        Thread.State st = t.getState();
        if (st == Thread.State.BLOCKED) {
            return true;
        }
        if (st != Thread.State.WAITING && st != Thread.State.TIMED_WAITING) {
            return false;
        }
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().startsWith("java.util.concurrent.locks.") && e.getMethodName().startsWith("acquire")) {
                return true;
            }
        }
        return false;
    }

    /** The thread running {@code c}: its recorded owner, else the CPU thread found by its context (controlled runs). */
    private static Thread threadOf(ExecCtx c) {
        Thread t = c.thread();
        if (t != null) {
            return t;
        }
        for (Thread any : Thread.getAllStackTraces().keySet()) {
            if (any instanceof KThread && ((KThread) any).ctx == c) {
                return any;
            }
        }
        return null;
    }

    private void fire(ExecCtx c, ScxOp op, long inFlightNs) {
        Thread t = threadOf(c);
        List<String> stack = new ArrayList<>();
        if (t != null) {
            for (StackTraceElement e : t.getStackTrace()) {
                stack.add(e.toString());
                if (stack.size() >= SCX_EXIT_BT_LEN) {
                    break;
                }
            }
        }
        String name = t == null ? "?" : t.getName();
        long ms = inFlightNs / 1_000_000L;
        Ext ext = kernel.ext;
        String where = c.cpu >= 0 ? " on CPU " + c.cpu : "";
        String fmt = "ops.%s()%s has not returned after %u.%03us (thread %s)";
        Object[] args = {op.kname, where, ms / 1000, ms % 1000, name};
        ext.klog("sched_ext: ops." + op.kname + "() did not return: " + name + " is stuck in the scheduler's code");
        int before = ext.exitKind.get();
        if (before == SCX_EXIT_NONE) {
            ext.scxOpsExitKind(SCX_EXIT_ERROR_STALL, 0, stack, fmt, args);
            ExitInfo ei = ext.exitInfo;
            if (ei.kind == SCX_EXIT_ERROR_STALL && ei.reason.isEmpty()) {
                // the disable that fills it in may never run: the stuck op may hold what it needs
                ei.reason = ExitInfo.reasonOf(SCX_EXIT_ERROR_STALL);
            }
        } else if (before < SCX_EXIT_ERROR) {
            // An unload was already under way when the op got stuck: the kernel can never meet
            // this case, the emulator reports it as the stall it is rather than a clean unload.
            ExitInfo ei = ext.exitInfo;
            ext.exitKind.set(SCX_EXIT_ERROR_STALL);
            ei.kind = SCX_EXIT_ERROR_STALL;
            ei.msg = CFormat.format(fmt, args);
            ei.bt = stack;
            ei.reason = ExitInfo.reasonOf(SCX_EXIT_ERROR_STALL);
        }
        stuck = new Stuck(op.kname, c.cpu, name, inFlightNs, List.copyOf(stack));
        if (t != null) {
            t.interrupt();
        }
    }
}
