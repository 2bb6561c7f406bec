// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.trace;

import static org.scxemu.scx.Scx.SCX_CPU_PREEMPT_DL;
import static org.scxemu.scx.Scx.SCX_CPU_PREEMPT_RT;
import static org.scxemu.scx.Scx.SCX_CPU_PREEMPT_STOP;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.scxemu.kernel.ExitInfo;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.SchedClass;
import org.scxemu.kernel.Task;
import org.scxemu.kernel.Tracer;

/**
 * Records the kernel's trace points during a run and turns them, afterwards, into a trace in the
 * Chrome JSON trace-event format, which Perfetto (ui.perfetto.dev) and {@code chrome://tracing}
 * open: process "CPUs" with one track per CPU showing which task (and class) ran when, with
 * instant events for {@code cpu_release} (reason, next task), {@code cpu_acquire}, kicks and
 * {@code scx_bpf_reenqueue_local()}; process "tasks" with one track per task showing the slices
 * it spent runnable but waiting; and a global instant event for the scheduler's exit.
 *
 * <p>Recording stays off the hot path as far as it can: each CPU appends to its own buffer
 * (parallel primitive arrays, grown by doubling up to a cap, then events are counted as dropped),
 * with no locks and no allocation except when a buffer grows. Building the JSON happens after the
 * run.
 *
 * <p>Threads: buffer {@code cpus[n]} is written only by the execution context of CPU {@code n}
 * (its {@code cpu-n} thread, or a test stepping it), which is where the kernel calls the trace
 * points with that CPU's number; trace points with no CPU (a kick from a non-CPU thread, the exit
 * on the sched_ext helper thread) go to {@code other}, guarded by its own monitor. The buffers
 * are read by {@link #toTraceJson} after the CPU threads have been joined (the joins order every
 * write before the read). Memory consistency effects: none during the run; see above for after.
 */
public final class TraceRecorder implements Tracer {
    static final int SWITCH = 0;
    static final int RELEASE = 1;
    static final int ACQUIRE = 2;
    static final int KICK = 3;
    static final int REENQ = 4;
    static final int EXIT = 5;

    /** One CPU's (or the shared) event buffer. Owned as the class comment says. */
    static final class Buffer {
        final int cap;
        int n;
        long dropped;
        int[] kind = new int[1024];
        long[] ts = new long[1024];
        /** SWITCH: prev class ordinal; RELEASE: reason; KICK: target CPU; REENQ: nr. */
        long[] x = new long[1024];
        /** SWITCH: next class ordinal; KICK: flags. */
        long[] y = new long[1024];
        /** SWITCH: next's wait total so far (Task.waitNs()). */
        long[] z = new long[1024];
        /** SWITCH: prev; RELEASE: next; EXIT: the ExitInfo. */
        Object[] a = new Object[1024];
        /** SWITCH: next. */
        Object[] b = new Object[1024];

        Buffer(int cap) {
            this.cap = cap;
        }

        /** The slot for a new event, or -1 if the buffer is full (the event is dropped). */
        int add(int k, long t) {
            if (n == kind.length) {
                if (n >= cap) {
                    dropped++;
                    return -1;
                }
                int len = Math.min(cap, n * 2);
                kind = Arrays.copyOf(kind, len);
                ts = Arrays.copyOf(ts, len);
                x = Arrays.copyOf(x, len);
                y = Arrays.copyOf(y, len);
                z = Arrays.copyOf(z, len);
                a = Arrays.copyOf(a, len);
                b = Arrays.copyOf(b, len);
            }
            kind[n] = k;
            ts[n] = t;
            return n++;
        }
    }

    private final Buffer[] cpus;
    private final Buffer other;
    /** The trace's time zero (kernel clock ns); set by {@link #toTraceJson}, used only there. */
    private long startNs;

    /**
     * @param nrCpus the machine's CPUs
     * @param maxEvents the most events kept in total (spread over the CPUs); later ones are dropped
     */
    public TraceRecorder(int nrCpus, int maxEvents) {
        int perCpu = Math.max(4096, maxEvents / Math.max(1, nrCpus));
        this.cpus = new Buffer[nrCpus];
        for (int i = 0; i < nrCpus; i++) {
            cpus[i] = new Buffer(perCpu);
        }
        this.other = new Buffer(perCpu);
    }

    @Override
    public void sched_switch(int cpu, long nowNs, Task prev, Task next) {
        Buffer buf = cpus[cpu];
        int i = buf.add(SWITCH, nowNs);
        if (i >= 0) {
            buf.x[i] = prev.schedClass().ordinal();
            buf.y[i] = next.schedClass().ordinal();
            buf.z[i] = next.waitNs();
            buf.a[i] = prev;
            buf.b[i] = next;
        }
    }

    @Override
    public void cpu_release(int cpu, long nowNs, int reason, Task next) {
        Buffer buf = cpus[cpu];
        int i = buf.add(RELEASE, nowNs);
        if (i >= 0) {
            buf.x[i] = reason;
            buf.a[i] = next;
        }
    }

    @Override
    public void cpu_acquire(int cpu, long nowNs) {
        cpus[cpu].add(ACQUIRE, nowNs);
    }

    @Override
    public void kick(int cpu, long nowNs, int target, long flags) {
        if (cpu >= 0 && cpu < cpus.length) {
            record(cpus[cpu], KICK, nowNs, target, flags);
        } else {
            synchronized (other) {
                record(other, KICK, nowNs, target, flags);
            }
        }
    }

    private static void record(Buffer buf, int kind, long nowNs, long x, long y) {
        int i = buf.add(kind, nowNs);
        if (i >= 0) {
            buf.x[i] = x;
            buf.y[i] = y;
        }
    }

    @Override
    public void reenqueue(int cpu, long nowNs, int nr) {
        record(cpus[cpu], REENQ, nowNs, nr, 0);
    }

    @Override
    public void scx_exit(long nowNs, ExitInfo info) {
        synchronized (other) {
            int i = other.add(EXIT, nowNs);
            if (i >= 0) {
                other.a[i] = info;
            }
        }
    }

    /** Events dropped because a buffer was full. Call after the run. */
    public long dropped() {
        long d;
        synchronized (other) {
            d = other.dropped;
        }
        for (Buffer b : cpus) {
            d += b.dropped;
        }
        return d;
    }

    private static String className(long ordinal) {
        return SchedClass.values()[(int) ordinal].name().toLowerCase(Locale.ROOT);
    }

    /** enum scx_cpu_preempt_reason, by value. */
    private static String reasonName(long reason) {
        if (reason == SCX_CPU_PREEMPT_RT) {
            return "SCX_CPU_PREEMPT_RT";
        } else if (reason == SCX_CPU_PREEMPT_DL) {
            return "SCX_CPU_PREEMPT_DL";
        } else if (reason == SCX_CPU_PREEMPT_STOP) {
            return "SCX_CPU_PREEMPT_STOP";
        }
        return "SCX_CPU_PREEMPT_UNKNOWN";
    }

    private double us(long ns) {
        return (ns - startNs) / 1000.0;
    }

    private static Map<String, Object> meta(String what, long pid, long tid, String name) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", what);
        m.put("ph", "M");
        m.put("pid", pid);
        if (tid >= 0) {
            m.put("tid", tid);
        }
        m.put("args", Map.of("name", name));
        return m;
    }

    private Map<String, Object> event(String name, String cat, String ph, long pid, long tid, long tsNs) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("cat", cat);
        m.put("ph", ph);
        m.put("pid", pid);
        m.put("tid", tid);
        m.put("ts", us(tsNs));
        if ("i".equals(ph)) {
            m.put("s", "t");
        }
        return m;
    }

    /**
     * The trace as a tree of maps and lists for {@link org.scxemu.harness.Json#write}. Call once,
     * after the CPU threads have been joined.
     *
     * @param fromNs the trace's time zero (kernel clock ns, {@link Kernel#now}); earlier events
     *               (the scheduler's load, forks) keep negative times
     * @param endNs the end of the run (kernel clock ns): slices still open are closed there
     * @param otherData run facts for the trace's {@code otherData} (scheduler, workload, ...)
     */
    public Map<String, Object> toTraceJson(long fromNs, long endNs, Map<String, Object> otherData) {
        startNs = fromNs;
        List<Object> ev = new ArrayList<>();
        ev.add(meta("process_name", 0, -1, "CPUs"));
        ev.add(meta("process_name", 1, -1, "tasks"));
        for (int cpu = 0; cpu < cpus.length; cpu++) {
            ev.add(meta("thread_name", 0, cpu, "cpu-" + cpu));
        }
        // per-task wait: switch-ins grouped by task, in order of the task's growing wait total
        Map<Task, List<long[]>> switchIns = new IdentityHashMap<>();
        for (int cpu = 0; cpu < cpus.length; cpu++) {
            Buffer buf = cpus[cpu];
            Task running = null;
            long runningSince = Long.MIN_VALUE;
            long runningClass = 0;
            for (int i = 0; i < buf.n; i++) {
                long t = buf.ts[i];
                switch (buf.kind[i]) {
                    case SWITCH: {
                        Task prev = (Task) buf.a[i];
                        Task next = (Task) buf.b[i];
                        if (prev.pid != 0) {
                            // the CPU's first switch: prev ran since before anything was recorded
                            long from = runningSince == Long.MIN_VALUE ? Math.min(t, startNs) : runningSince;
                            ev.add(slice(cpu, prev, buf.x[i], from, t));
                        }
                        running = next;
                        runningSince = t;
                        runningClass = buf.y[i];
                        if (next.pid != 0) {
                            switchIns.computeIfAbsent(next, k -> new ArrayList<>()).add(new long[] {t, buf.z[i]});
                        }
                        break;
                    }
                    case RELEASE: {
                        Map<String, Object> e = event("cpu_release", "scx", "i", 0, cpu, t);
                        e.put("args", ordered("reason", reasonName(buf.x[i]), "next", String.valueOf(buf.a[i])));
                        ev.add(e);
                        break;
                    }
                    case ACQUIRE:
                        ev.add(event("cpu_acquire", "scx", "i", 0, cpu, t));
                        break;
                    case KICK:
                        ev.add(kick(cpu, t, buf.x[i], buf.y[i]));
                        break;
                    case REENQ: {
                        Map<String, Object> e = event("reenqueue_local", "scx", "i", 0, cpu, t);
                        e.put("args", Map.of("nr", buf.x[i]));
                        ev.add(e);
                        break;
                    }
                    default:
                        break;
                }
            }
            if (running != null && running.pid != 0 && endNs > runningSince) { // still running at the end
                ev.add(slice(cpu, running, runningClass, runningSince, endNs));
            }
        }
        synchronized (other) {
            for (int i = 0; i < other.n; i++) {
                if (other.kind[i] == KICK) {
                    ev.add(kick(-1, other.ts[i], other.x[i], other.y[i]));
                } else if (other.kind[i] == EXIT) {
                    ExitInfo ei = (ExitInfo) other.a[i];
                    Map<String, Object> e = event("scx_exit", "scx", "i", 0, 0, other.ts[i]);
                    e.put("s", "g");
                    Map<String, Object> args = new LinkedHashMap<>();
                    args.put("kind", ei.kindName());
                    args.put("exit_code", ei.exitCode());
                    args.put("reason", ei.reason());
                    args.put("msg", ei.msg());
                    e.put("args", args);
                    ev.add(e);
                }
            }
        }
        List<Task> tasks = new ArrayList<>(switchIns.keySet());
        tasks.sort(Comparator.comparingInt(t -> t.pid));
        for (Task task : tasks) {
            ev.add(meta("thread_name", 1, task.pid, task.toString()));
            List<long[]> ins = switchIns.get(task);
            ins.sort(Comparator.comparingLong(v -> v[1]));
            long last = 0;
            for (long[] in : ins) {
                long waited = in[1] - last;
                last = in[1];
                if (waited > 0) {
                    Map<String, Object> e = event("wait", "wait", "X", 1, task.pid, in[0] - waited);
                    e.put("dur", waited / 1000.0);
                    ev.add(e);
                }
            }
        }
        Map<String, Object> other = new LinkedHashMap<>(otherData);
        other.put("dropped_events", dropped());
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("displayTimeUnit", "ns");
        root.put("otherData", other);
        root.put("traceEvents", ev);
        return root;
    }

    /**
     * A small JSON object with its keys in the order given. Never {@code Map.of()} for more than
     * one key: its iteration order changes from one JVM to the next, and a trace must come out
     * byte for byte the same for one seed.
     */
    private static Map<String, Object> ordered(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    private Map<String, Object> slice(int cpu, Task p, long cls, long fromNs, long toNs) {
        String c = className(cls);
        Map<String, Object> e = event(p.toString(), c, "X", 0, cpu, fromNs);
        e.put("dur", Math.max(0, toNs - fromNs) / 1000.0);
        e.put("args", ordered("pid", (long) p.pid, "class", c));
        return e;
    }

    private Map<String, Object> kick(int cpu, long t, long target, long flags) {
        Map<String, Object> e = event("kick", "scx", "i", 0, cpu < 0 ? target : cpu, t);
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("from", (long) cpu);
        args.put("target", target);
        args.put("flags", flags);
        e.put("args", args);
        return e;
    }
}
