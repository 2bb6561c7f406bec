// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.schedulers;

import static org.scxemu.scx.Scx.*;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.scxemu.kernel.ExitInfo;
import org.scxemu.kernel.Task;
import org.scxemu.scx.BpfTimer;
import org.scxemu.scx.SchedExtOps;
import org.scxemu.scx.maps.QueueMap;

/**
 * scx_central: a central FIFO scheduler (port of {@code tools/sched_ext/scx_central.bpf.c} and
 * {@code scx_central.c} as of the seed's series, after "sched_ext: Implement tickless support").
 *
 * <p>It demonstrates:
 * <ul>
 *   <li><b>making every scheduling decision on one CPU.</b> The central CPU ({@code -c}, default
 *       0) is the only one that pops tasks. Every other CPU's {@code ops.dispatch()} first tries
 *       the fallback DSQ, then raises its {@code cpu_gimme_task} flag and kicks the central CPU
 *       with {@code SCX_KICK_PREEMPT}. The central CPU's {@code ops.dispatch()} walks the CPUs
 *       with the flag up, pops a pid from the one global FIFO {@code central_q} (a queue map of
 *       4096 pids; overflow goes to {@code FALLBACK_DSQ_ID}) and dispatches it with
 *       {@code SCX_DSQ_LOCAL_ON | cpu}, then kicks that CPU. Bouncing through per-CPU queues would
 *       be simpler; the original chose this to exercise LOCAL_ON dispatching;
 *   <li><b>tickless operation.</b> Every task gets {@code SCX_SLICE_INF}; slices are instead
 *       enforced by a 1 ms BPF timer pinned to the central CPU ({@code BPF_F_TIMER_CPU_PIN}) which
 *       kicks, with {@code SCX_KICK_PREEMPT}, any CPU whose task ran longer than {@code slice_ns}
 *       ({@code -s}) while work is pending ({@code ops.running()} / {@code ops.stopping()} record
 *       the start times);
 *   <li><b>preemption.</b> Per-CPU kthreads ({@code PF_KTHREAD} with one allowed CPU) go straight
 *       to the head of their CPU's local DSQ with {@code SCX_ENQ_PREEMPT}, because the timer may
 *       depend on them (ksoftirqd); {@code SCX_OPS_ENQ_LAST} makes a CPU's last runnable task go
 *       through {@code ops.enqueue()} like any other, since being last means nothing here.
 * </ul>
 * {@code ops.select_cpu()} returns the central CPU for every wakeup (a hint only), so wakeups
 * disturb the other CPUs as little as possible.
 *
 * <p>Counters ({@link #stats()}), by their BPF names: {@code nr_total} (enqueues),
 * {@code nr_locals} (kthreads dispatched locally), {@code nr_queued} (pids in {@code central_q},
 * incremented on push, decremented on pop), {@code nr_lost_pids} (popped pids whose task is gone),
 * {@code nr_timers}, {@code nr_dispatches} (central dispatch rounds), {@code nr_mismatches}
 * (popped tasks that could not run on the CPU they were popped for, bounced to the fallback DSQ),
 * {@code nr_retries} (central dispatch ran out of slots and kicked itself), {@code nr_overflows}.
 * {@link #statsLine()} prints them as scx_central.c does each second:
 * {@code [SEQ n]}, {@code total   :%10lu    local:%10lu   queued:%10lu  lost:%10lu},
 * {@code timer   :%10lu dispatch:%10lu mismatch:%10lu retry:%10lu}, {@code overflow:%10lu}.
 *
 * <p>Deviations, with the reason:
 * <ul>
 *   <li>the timer: the original's loader pins itself to the central CPU so that
 *       {@code ops.init()} (which errors out on any other CPU) starts the timer there. Here
 *       {@code ops.init()} runs on the harness thread, whose timers fire on CPU 0: with central
 *       CPU 0 the timer is started by {@code ops.init()}; with another central CPU it is started
 *       by the central CPU's first {@code ops.dispatch()} (which always comes, the first enqueue
 *       kicks it). The callback still checks that it runs on the central CPU, as the original;
 *   <li>{@code -p} (partial switch) and {@code -v} (libbpf verbosity) are not offered.
 * </ul>
 *
 * <p>Threads: the rodata ({@code centralCpu}, {@code nrCpuIds}, {@code sliceNs}) is final. The
 * counters are atomics. {@code cpu_gimme_task[cpu]} is written by CPU {@code cpu} (set, in its
 * dispatch) and the central CPU (clear, in its dispatch) without a lock, as the BPF global array;
 * a lost update at worst delays a CPU until its next kick, which the original accepts; the slots
 * are volatile here ({@link AtomicBoolean}s) so each write is seen. {@code cpu_started_at[cpu]} is
 * written by {@code ops.running()} / {@code ops.stopping()} on CPU {@code cpu} under its rq lock
 * and read racily by the timer on the central CPU (racy but benign: a stale value delays or
 * advances one preemption by one timer period).
 *
 * <p>Memory consistency effects: none beyond the kernel's locks and the queue map's (a pid pushed
 * by ops.enqueue() is popped with everything before the push visible); {@link #stats()} and
 * {@link #statsLine()} read racily, as user space reads the BPF side's variables.
 */
public final class ScxCentral implements SchedExtOps {
    static final long FALLBACK_DSQ_ID = 0;
    static final long MS_TO_NS = 1000L * 1000;
    static final long TIMER_INTERVAL_NS = 1 * MS_TO_NS;
    static final int CENTRAL_Q_MAX_ENTRIES = 4096;
    /** bpf_repeat()'s bound, BPF_MAX_LOOPS. */
    static final int BPF_MAX_LOOPS = 8 * 1024 * 1024;

    /** What scx_central's command line sets, with its defaults. Read once, by the constructor. */
    public static class Options {
        /** {@code -s SLICE_US}, here in ns: how long a task may run before the timer preempts it. */
        public long sliceNs = SCX_SLICE_DFL;
        /** {@code -c CPU}: the central CPU. */
        public int centralCpu;
        /** nr_cpu_ids: set by the loader from the machine (libbpf_num_possible_cpus()). */
        public int nrCpuIds = 1;
    }

    // --- rodata (const volatile) -------------------------------------------------------------------
    private final int centralCpu;
    private final int nrCpuIds;
    private final long sliceNs;

    // --- data / bss / maps: any thread ---------------------------------------------------------------
    /** bool timer_pinned: always true here (BPF_F_TIMER_CPU_PIN exists). */
    private final boolean timerPinned = true;
    /** central_q */
    private final QueueMap centralQ = new QueueMap(CENTRAL_Q_MAX_ENTRIES);
    /** cpu_gimme_task[]: see the class comment. */
    private final AtomicBoolean[] cpuGimmeTask;
    /** cpu_started_at[]: 0 means idle; see the class comment. */
    private final AtomicLong[] cpuStartedAt;
    /** central_timer */
    private final BpfTimer centralTimer;
    /** Whether the timer was started (see the deviation in the class comment). */
    private final AtomicBoolean timerStarted = new AtomicBoolean();

    private final AtomicLong nrTotal = new AtomicLong();
    private final AtomicLong nrLocals = new AtomicLong();
    private final AtomicLong nrQueued = new AtomicLong();
    private final AtomicLong nrLostPids = new AtomicLong();
    private final AtomicLong nrTimers = new AtomicLong();
    private final AtomicLong nrDispatches = new AtomicLong();
    private final AtomicLong nrMismatches = new AtomicLong();
    private final AtomicLong nrRetries = new AtomicLong();
    private final AtomicLong nrOverflows = new AtomicLong();

    /** UEI_DEFINE(uei): written by ops.exit(), read by the user-space half. */
    private volatile ExitInfo uei;
    /** The user-space half's {@code seq}: its own thread. */
    private final AtomicLong seq = new AtomicLong();

    public ScxCentral(Options o) {
        if (o.nrCpuIds < 1) {
            throw new IllegalArgumentException("nrCpuIds must be >= 1, got " + o.nrCpuIds);
        }
        if (o.centralCpu < 0 || o.centralCpu >= o.nrCpuIds) {
            throw new IllegalArgumentException("central CPU " + o.centralCpu + " out of 0.." + (o.nrCpuIds - 1));
        }
        if (o.sliceNs <= 0) {
            throw new IllegalArgumentException("sliceNs must be > 0, got " + o.sliceNs);
        }
        this.centralCpu = o.centralCpu;
        this.nrCpuIds = o.nrCpuIds;
        this.sliceNs = o.sliceNs;
        this.cpuGimmeTask = new AtomicBoolean[nrCpuIds];
        this.cpuStartedAt = new AtomicLong[nrCpuIds];
        for (int i = 0; i < nrCpuIds; i++) {
            cpuGimmeTask[i] = new AtomicBoolean();
            cpuStartedAt[i] = new AtomicLong();
        }
        this.centralTimer = new BpfTimer("central_timer", this::centralTimerfn);
    }

    /** (s64)(a - b) &lt; 0 */
    static boolean vtimeBefore(long a, long b) {
        return a - b < 0;
    }

    @Override
    public String name() {
        return "central";
    }

    /**
     * Every decision is made on the central CPU, so the last runnable task of some other CPU is
     * nothing special: it is enqueued like the rest.
     */
    @Override
    public long flags() {
        return SCX_OPS_ENQ_LAST;
    }

    /** central_select_cpu(): steer every wakeup to the central CPU (a hint; the core falls back). */
    @Override
    public int selectCpu(Task p, int prevCpu, long wakeFlags) {
        return centralCpu;
    }

    /** central_enqueue() */
    @Override
    public void enqueue(Task p, long enqFlags) {
        int pid = p.pid;

        nrTotal.incrementAndGet();

        // Per-CPU kthreads go to the head of their local DSQ and preempt: e.g. ksoftirqd must not
        // be blocked behind other threads, the BPF timer may depend on it.
        if ((p.flags() & Task.PF_KTHREAD) != 0 && p.nrCpusAllowed() == 1) {
            nrLocals.incrementAndGet();
            scx_bpf_dispatch(p, SCX_DSQ_LOCAL, SCX_SLICE_INF, enqFlags | SCX_ENQ_PREEMPT);
            return;
        }

        if (centralQ.push(pid) != 0) {
            nrOverflows.incrementAndGet();
            scx_bpf_dispatch(p, FALLBACK_DSQ_ID, SCX_SLICE_INF, enqFlags);
            return;
        }

        nrQueued.incrementAndGet();

        if (!scx_bpf_task_running(p)) {
            scx_bpf_kick_cpu(centralCpu, SCX_KICK_PREEMPT);
        }
    }

    /** dispatch_to_cpu(): pop the first task that can run on {@code cpu} and send it there. */
    private boolean dispatchToCpu(int cpu) {
        for (int loop = 0; loop < BPF_MAX_LOOPS; loop++) {
            long pid = centralQ.pop();
            if (pid < 0) {
                break;
            }

            nrQueued.decrementAndGet();

            Task p = bpf_task_from_pid((int) pid);
            if (p == null) {
                nrLostPids.incrementAndGet();
                continue;
            }

            // The head task may not run on this CPU: the simple answer is to park it on the
            // fallback DSQ.
            if (!p.cpusPtr().test(cpu)) {
                nrMismatches.incrementAndGet();
                scx_bpf_dispatch(p, FALLBACK_DSQ_ID, SCX_SLICE_INF, 0);
                bpf_task_release(p);
                // Dispatching only to the fallback DSQ could use up the dispatch buffer before
                // anything reaches @cpu: stop now, the next dispatch would fail.
                if (scx_bpf_dispatch_nr_slots() == 0) {
                    break;
                }
                continue;
            }

            // straight to @cpu's local DSQ; the caller clears @cpu's request
            scx_bpf_dispatch(p, SCX_DSQ_LOCAL_ON | cpu, SCX_SLICE_INF, 0);

            if (cpu != centralCpu) {
                scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
            }

            bpf_task_release(p);
            return true;
        }
        return false;
    }

    /** central_dispatch() */
    @Override
    public void dispatch(int cpu, Task prev) {
        if (cpu == centralCpu) {
            if (!timerStarted.get()) {
                startTimer();
            }
            // serve the other CPUs before this one
            nrDispatches.incrementAndGet();

            for (int c = 0; c < nrCpuIds; c++) {
                if (scx_bpf_dispatch_nr_slots() == 0) {
                    break;
                }
                // (the central CPU never raises its own request flag)
                if (!cpuGimmeTask[c].get()) {
                    continue;
                }
                if (dispatchToCpu(c)) {
                    cpuGimmeTask[c].set(false);
                }
            }

            // A full dispatch buffer may have left some CPUs unserved, and this CPU has nothing
            // yet. The core only loops again when our local DSQ stays empty, which is not
            // guaranteed here since we fill other CPUs' DSQs: a self-kick brings us back.
            if (scx_bpf_dispatch_nr_slots() == 0) {
                nrRetries.incrementAndGet();
                scx_bpf_kick_cpu(centralCpu, SCX_KICK_PREEMPT);
                return;
            }

            // now this CPU's own turn
            if (scx_bpf_consume(FALLBACK_DSQ_ID)) {
                return;
            }
            dispatchToCpu(centralCpu);
        } else {
            if (scx_bpf_consume(FALLBACK_DSQ_ID)) {
                return;
            }

            cpuGimmeTask[cpu].set(true);

            // Wake the central CPU into its dispatch so that it picks something for this one.
            scx_bpf_kick_cpu(centralCpu, SCX_KICK_PREEMPT);
        }
    }

    /** central_running() */
    @Override
    public void running(Task p) {
        int cpu = scx_bpf_task_cpu(p);
        long now = bpf_ktime_get_ns();
        cpuStartedAt[cpu].set(now != 0 ? now : 1); // 0 is reserved for "nothing running"
    }

    /** central_stopping() */
    @Override
    public void stopping(Task p, boolean runnable) {
        int cpu = scx_bpf_task_cpu(p);
        cpuStartedAt[cpu].set(0);
    }

    /** central_timerfn(): on the central CPU every TIMER_INTERVAL_NS, without the rq lock. */
    private void centralTimerfn() {
        long now = bpf_ktime_get_ns();
        long nrToKick = nrQueued.get();

        int currCpu = bpf_get_smp_processor_id();
        if (timerPinned && currCpu != centralCpu) {
            scx_bpf_error("Central timer ran on CPU %d, not central CPU %d", currCpu, centralCpu);
            return;
        }

        long timers = nrTimers.get();
        for (int i = 0; i < nrCpuIds; i++) {
            int cpu = (int) ((timers + i) % nrCpuIds);

            if (cpu == centralCpu) {
                continue;
            }

            // only a CPU whose current task used up its slice is kicked
            long startedAt = cpuStartedAt[cpu].get();
            if (startedAt != 0 && vtimeBefore(now, startedAt + sliceNs)) {
                continue;
            }

            // and there's something pending
            if (scx_bpf_dsq_nr_queued(FALLBACK_DSQ_ID) != 0 || scx_bpf_dsq_nr_queued(SCX_DSQ_LOCAL_ON | cpu) != 0) {
                // kick
            } else if (nrToKick != 0) {
                nrToKick--;
            } else {
                continue;
            }

            scx_bpf_kick_cpu(cpu, SCX_KICK_PREEMPT);
        }

        bpf_timer_start(centralTimer, TIMER_INTERVAL_NS, BPF_F_TIMER_CPU_PIN);
        nrTimers.incrementAndGet();
    }

    private void startTimer() {
        if (timerStarted.compareAndSet(false, true)) {
            int ret = bpf_timer_start(centralTimer, TIMER_INTERVAL_NS, BPF_F_TIMER_CPU_PIN);
            if (ret != 0) {
                scx_bpf_error("bpf_timer_start failed (%d)", ret);
            }
        }
    }

    /** central_init(): sleepable. */
    @Override
    public int init() {
        int ret = scx_bpf_create_dsq(FALLBACK_DSQ_ID, -1);
        if (ret != 0) {
            return ret;
        }
        // The loader thread stands for CPU 0 (see the class comment).
        if (centralCpu == 0) {
            startTimer();
        }
        return 0;
    }

    /** central_exit(): UEI_RECORD(uei, ei). */
    @Override
    public void exit(ExitInfo info) {
        uei = info;
    }

    // --- the user-space half -------------------------------------------------------------------------

    /** UEI_EXITED(): the exit info ops.exit() recorded, or null while the scheduler runs. */
    public ExitInfo exitInfo() {
        return uei;
    }

    /** The central CPU (rodata). */
    public int centralCpu() {
        return centralCpu;
    }

    /** The BPF side's counters, by their BPF names. */
    @Override
    public Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("nr_total", nrTotal.get());
        m.put("nr_locals", nrLocals.get());
        m.put("nr_queued", nrQueued.get());
        m.put("nr_lost_pids", nrLostPids.get());
        m.put("nr_timers", nrTimers.get());
        m.put("nr_dispatches", nrDispatches.get());
        m.put("nr_mismatches", nrMismatches.get());
        m.put("nr_retries", nrRetries.get());
        m.put("nr_overflows", nrOverflows.get());
        return Collections.unmodifiableMap(m);
    }

    /** What scx_central.c prints every second (each call is the next {@code [SEQ n]}). */
    @Override
    public String statsLine() {
        return String.format(Locale.ROOT, "[SEQ %d]%n", seq.getAndIncrement())
                + String.format(Locale.ROOT, "total   :%10s    local:%10s   queued:%10s  lost:%10s%n", u(nrTotal),
                        u(nrLocals), u(nrQueued), u(nrLostPids))
                + String.format(Locale.ROOT, "timer   :%10s dispatch:%10s mismatch:%10s retry:%10s%n", u(nrTimers),
                        u(nrDispatches), u(nrMismatches), u(nrRetries))
                + String.format(Locale.ROOT, "overflow:%10s", u(nrOverflows));
    }

    private static String u(AtomicLong v) {
        return Long.toUnsignedString(v.get());
    }
}
