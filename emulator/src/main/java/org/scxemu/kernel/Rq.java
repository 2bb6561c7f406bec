// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.scxemu.kernel.ScxConsts.SCX_DSQ_LOCAL;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code struct rq}: one simulated CPU's runqueue.
 *
 * <p>{@code lock} is the rq lock. Everything here is guarded by it unless the field says
 * otherwise. {@code curr} is written only by the owning CPU thread under the lock and is volatile
 * so that kick and idle checks on other CPUs may read it racily (racy but benign: they re-check
 * under the lock or only use it as a hint, like {@code rq->curr} reads in the kernel).
 * {@code needResched} is TIF_NEED_RESCHED: set by any thread ({@link Kernel#reschedCurr} under
 * the rq lock), cleared by the owner in {@code __schedule()}; volatile.
 */
public final class Rq {
    public final int cpu;
    final Kernel kernel;
    /** The rq lock. */
    final RacePointLock lock = new RacePointLock();
    /** rq->curr */
    volatile Task curr;
    /** rq->idle: the idle task, swapper/N. */
    final Task idle;
    /** rq->nr_running: all classes, including curr while it is queued. */
    int nrRunning;
    private volatile boolean needResched;
    /** The simple classes' FIFO run lists (stop, dl, rt, fair), heads and tails by ordinal. */
    final Task[] runHead = new Task[4];
    final Task[] runTail = new Task[4];
    final int[] runNr = new int[4];
    /** cpu_online() / cpu_active() */
    volatile boolean online = true;
    /** This CPU's hrtimers. */
    final TimerQueue timers;
    /** The thread running this CPU (null when stepped by hand); unparked by kicks and wakeups. */
    volatile Thread thread;
    /** The kernel context of this CPU's thread. */
    final ExecCtx ctx;
    /** Owned by the CPU thread: next tick time, and the clock of the running behaviour. */
    long nextTickNs;
    long behaviourClockNs;
    /** Task the behaviour clock belongs to. */
    Task behaviourTask;
    /**
     * Context switches: written by the CPU thread under the rq lock with a release store after the
     * pick (and its pnt_seq bump); read by the stress checker with {@link #getNrSwitchesAcquire()}
     * on another CPU, and racily for display.
     */
    long nrSwitches;
    /** Metrics, owned by the CPU thread (read after it stops, or racily). */
    long busyNs;
    long lastSwitchNs;

    /** Latency histograms, rq lock. */
    final CpuStats stats = new CpuStats();

    /** rq->scx */
    public final ScxRq scx;

    Rq(Kernel kernel, int cpu) {
        this.kernel = kernel;
        this.cpu = cpu;
        this.idle = new Task(0, "swapper/" + cpu, Task.SCHED_IDLE, 0, false, CpuMask.of(cpu),
                null, Task.PF_IDLE | Task.PF_KTHREAD);
        this.idle.schedClass = SchedClass.IDLE;
        this.idle.writeOnceCpu(cpu);
        this.idle.soOnRq(Task.TASK_ON_RQ_QUEUED);
        this.idle.soOnCpu(true);
        this.curr = idle;
        this.timers = new TimerQueue(this);
        this.scx = new ScxRq(this);
        this.ctx = new ExecCtx(kernel, this);
    }

    /** lockdep_assert_rq_held() */
    void assertHeld() {
        if (Kernel.LOCKDEP && !lock.isHeldByCurrentThread()) {
            throw new IllegalStateException("rq lock of CPU " + cpu + " not held");
        }
    }

    boolean needResched() {
        return needResched;
    }

    /** set_tsk_need_resched() + the IPI: wakes the CPU thread if it waits. */
    void setNeedResched() {
        needResched = true;
        wakeCpuThread();
    }

    void clearNeedResched() {
        needResched = false;
    }

    /** The reschedule IPI: unpark this CPU's thread. */
    void wakeCpuThread() {
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            LockSupport.unpark(t);
        }
    }

    /** The current task (racy outside the rq lock). */
    public Task curr() {
        return curr;
    }

    public Task idleTask() {
        return idle;
    }

    public boolean isIdle() {
        return curr == idle;
    }

    public long nrSwitches() {
        return nrSwitches;
    }

    /**
     * {@code rq->nr_running}: tasks on this rq, of every class. Guarded by the rq lock; read
     * without it this is a racy snapshot (a plain int read: never torn, possibly stale), as a
     * BPF scheduler's read through {@code scx_bpf_cpu_rq()} is.
     */
    public int nrRunning() {
        return nrRunning;
    }

    /**
     * One more context switch, release-stored: everything this CPU wrote during the pick (its
     * pnt_seq bump included) is visible to a thread that reads the new count with
     * {@link #getNrSwitchesAcquire()}.
     */
    void soNrSwitches(long v) {
        NR_SWITCHES.setRelease(this, v);
    }

    /** The context-switch count, acquire; pairs with {@link #soNrSwitches}. */
    public long getNrSwitchesAcquire() {
        return (long) NR_SWITCHES.getAcquire(this);
    }

    // VarHandle mechanics
    private static final VarHandle NR_SWITCHES;

    static {
        try {
            NR_SWITCHES = MethodHandles.lookup().findVarHandle(Rq.class, "nrSwitches", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    public CpuStats stats() {
        return stats;
    }

    public long busyNs() {
        return busyNs;
    }

    /**
     * {@code struct scx_rq}: the sched_ext part of a runqueue, guarded by the rq lock.
     *
     * <h2>cpu_released (the seed's protocol)</h2>
     * <pre>
     *             pick: a class above ext wins, key on, !cpu_released
     *             -&gt; ops.cpu_release(cpu, {reason, next}) [SCX_KF_CPU_RELEASE]
     *   +-------+ ------------------------------------------------------&gt; +----------+
     *   | false |                                                           |   true   |
     *   | (SCX  | &lt;------------------------------------------------------ | (released)|
     *   |  owns)|   balance_scx(), key on, cpu_released                     +----------+
     *   +-------+   -&gt; ops.cpu_acquire(cpu, NULL) [mask 0]                     |   ^
     *                                                                          +---+
     *                                  further higher-class picks: no second release
     * </pre>
     * Both transitions happen on the owning CPU's thread under its rq lock, so the flag and the
     * callbacks never disagree. The flag is set even when ops.cpu_release is absent. ext → idle
     * is not a release (the scheduler chose to leave the CPU idle). Lock-free readers (dumps,
     * invariant checks) use {@link #getCpuReleasedOpaque}.
     *
     * <h2>Kick and pnt_seq</h2>
     * <pre>
     *   kicker CPU K                                 target CPU T
     *   scx_bpf_kick_cpu(T, WAIT): set bits
     *   ...op returns, rq lock dropped...
     *   kick_cpus_irq_workfn():
     *     lock T; pseqs[T] = T.pnt_seq; resched T; unlock
     *     spin: while (la(T.pnt_seq) == pseqs[T])     __schedule(): ... pick_next_task()
     *                                                   scx_next_task_picked():
     *                                                     so(pnt_seq, pnt_seq + 1)  ---+
     *     &lt;------ acquire sees the new value: everything T wrote before its pick -----+
     *             is visible to K; K proceeds
     * </pre>
     * {@code pnt_seq} is written only by T (under its rq lock) and read by kickers with acquire.
     */
    public static final class ScxRq {
        final Rq rq;
        /** rq->scx.local_dsq */
        final Dsq localDsq;
        /** rq->scx.runnable_list */
        Task runnableHead;
        Task runnableTail;
        /** rq->scx.ops_qseq */
        long opsQseq;
        /** rq->scx.extra_enq_flags, see move_task_to_local_dsq() */
        long extraEnqFlags;
        /** rq->scx.nr_running */
        int nrRunning;
        /** rq->scx.flags: SCX_RQ_* */
        int flags;
        /**
         * rq->scx.cpuperf_target (6.12): set by scx_bpf_cpuperf_set() from any CPU with no lock
         * and read by whoever looks (cpufreq in the kernel; tests here): volatile.
         */
        volatile int cpuperfTarget = ScxConsts.SCX_CPUPERF_ONE;
        /** rq->scx.cpu_released (the seed's flag): rq lock; opaque for lock-free readers. */
        @SuppressWarnings("unused")
        private boolean cpuReleased;
        /** rq->scx.pnt_seq: written by the owning CPU only; see {@link #soPntSeq}. */
        @SuppressWarnings("unused")
        private long pntSeq;

        /** The performance target the BPF scheduler last asked for this CPU (1..1024). */
        public int cpuperfTarget() {
            return cpuperfTarget;
        }

        // dispatch buffer: struct scx_dsp_ctx (per CPU)
        Task[] dspTask;
        long[] dspQseq;
        long[] dspDsqId;
        long[] dspEnqFlags;
        int dspCursor;
        int dspNrTasks;

        /** Metric of the seed's feature: completed release windows (acquires). */
        long releaseWindows;
        /**
         * scx-emu's: this CPU dropped its rq lock inside balance (a remote consume or a cross-CPU
         * dispatch) since its last cpu_acquire; for the stress checker's report. Rq lock.
         */
        boolean lockDroppedSinceAcquire;

        ScxRq(Rq rq) {
            this.rq = rq;
            this.localDsq = new Dsq(SCX_DSQ_LOCAL, rq);
        }

        /** The CPU's local DSQ. */
        public Dsq localDsq() {
            return localDsq;
        }

        /** rq->scx.cpu_released, under the rq lock. */
        boolean lpCpuReleased() {
            return (boolean) CPU_RELEASED.get(this);
        }

        /** Written under the rq lock; opaque so lock-free observers never see a torn value. */
        void writeOnceCpuReleased(boolean v) {
            CPU_RELEASED.setOpaque(this, v);
        }

        /** READ_ONCE(rq->scx.cpu_released): any thread, racy (dumps, invariant checks). */
        public boolean getCpuReleasedOpaque() {
            return (boolean) CPU_RELEASED.getOpaque(this);
        }

        /** The owner's plain read of its own pnt_seq (under the rq lock). */
        long lpPntSeq() {
            return (long) PNT_SEQ.get(this);
        }

        /**
         * smp_store_release(&rq->scx.pnt_seq, pnt_seq + 1) in scx_next_task_picked(): publishes
         * everything this CPU wrote before the pick. Pairs with {@link #getPntSeqAcquire} in
         * kick_cpus_irq_workfn()'s SCX_KICK_WAIT loop.
         */
        void soPntSeq(long v) {
            PNT_SEQ.setRelease(this, v);
        }

        /** scx_next_task_picked()'s bump: {@code smp_store_release(&pnt_seq, pnt_seq + 1)}. */
        void bumpPntSeq() {
            soPntSeq(lpPntSeq() + 1);
        }

        /** smp_load_acquire(&rq->scx.pnt_seq); pairs with the release in {@link #soPntSeq}. */
        public long getPntSeqAcquire() {
            return (long) PNT_SEQ.getAcquire(this);
        }

        public long releaseWindows() {
            return releaseWindows;
        }

        // VarHandle mechanics
        private static final VarHandle CPU_RELEASED;
        private static final VarHandle PNT_SEQ;

        static {
            try {
                MethodHandles.Lookup l = MethodHandles.lookup();
                CPU_RELEASED = l.findVarHandle(ScxRq.class, "cpuReleased", boolean.class);
                PNT_SEQ = l.findVarHandle(ScxRq.class, "pntSeq", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
    }
}
