// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.scxemu.kernel.ScxConsts.SCX_DSQ_INVALID;
import static org.scxemu.kernel.ScxConsts.SCX_SLICE_DFL;
import static org.scxemu.kernel.ScxConsts.SCX_TASK_STATE_MASK;
import static org.scxemu.kernel.ScxConsts.SCX_TASK_STATE_SHIFT;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * {@code struct sched_ext_entity}, the {@code p->scx} of a task.
 *
 * <p>The public fields are the ones a BPF scheduler may read or write directly ({@code slice},
 * {@code dsqVtime}, {@code disallow}; {@code weight} and {@code flags} are read-only for it).
 * Everything else is the core's.
 *
 * <h2>The ops-state machine ({@code p->scx.ops_state})</h2>
 * <pre>
 *                     do_enqueue_task() [rq lock of p]
 *        +--------------------------------------------------+
 *        |                                                  v
 *   +---------+  direct dispatch / CLEAR_OPSS      +-----------+
 *   |  NONE   |&lt;---------------------------------| QUEUEING  |  ops.enqueue() runs
 *   | (core)  |                                    |  | qseq   |
 *   +---------+                                    +-----------+
 *     ^     ^                                            | so (release): QUEUED | qseq
 *     |     | ops_dequeue(): cas QUEUED-&gt;NONE          v
 *     |     +--------------------------------------+-----------+
 *     |                                            |  QUEUED   |  owned by the BPF scheduler
 *     | dispatch_enqueue(CLEAR_OPSS) /             |  | qseq   |
 *     | dispatch_to_local_dsq(): so NONE           +-----------+
 *     |                                                  | finish_dispatch(): cas
 *     |                                                  | QUEUED|qseq -&gt; DISPATCHING
 *     |                                            +-------------+
 *     +--------------------------------------------| DISPATCHING |  owned by one dispatching CPU
 *                                                  +-------------+
 * </pre>
 * Owners: NONE belongs to the core (the task is on a DSQ, running, or not runnable); QUEUEING to
 * the CPU holding p's rq lock inside ops.enqueue(); QUEUED to the BPF scheduler; DISPATCHING to the
 * one CPU whose cmpxchg won in finish_dispatch(). The qseq (the enqueuing rq's {@code ops_qseq++})
 * makes a dispatch of an earlier enqueue instance stale: finish_dispatch() drops it.
 * Ordering: every transition to QUEUED or NONE that publishes the task is a store-release, and
 * every reader that then touches the task (wait_ops_state(), ops_dequeue()) loads with acquire.
 * A CPU waiting in wait_ops_state() never holds a lock the state's owner needs: the dequeuer waits
 * on DISPATCHING holding only p's rq lock, and the dispatcher drops DISPATCHING (publishing
 * {@code holdingCpu}) before it takes p's rq lock in dispatch_to_local_dsq().
 *
 * <p>Guards, as {@code include/linux/sched/ext.h} states them:
 * <ul>
 *   <li>{@code dsq}, the DSQ links, {@code dsqSeq}, {@code dsqFlags}: the lock of the DSQ the task
 *       is on (the rq lock for a local DSQ);
 *   <li>{@code flags}, {@code stickyCpu}, {@code slice}, {@code dsqVtime}, {@code runnableAt},
 *       the runnable-list links, {@code ddsp*}: the lock of the rq the task is on;
 *   <li>{@code opsState}: any thread, through the acquire/release and CAS accessors below (the
 *       kernel's {@code atomic_long_t ops_state});
 *   <li>{@code holdingCpu}: written under the rq lock by the dequeuing side and by the migrating
 *       CPU while it holds the DSQ lock or the task's rq lock; read under either (see
 *       {@link ExtDispatch#dispatchToLocalDsq}); accessed opaquely.
 * </ul>
 */
public final class SchedExtEntity {
    // --- BPF-visible --------------------------------------------------------------------------
    /** p->scx.slice: remaining slice in ns, {@code SCX_SLICE_INF} never expires. */
    public long slice = SCX_SLICE_DFL;
    /** p->scx.dsq_vtime: ordering key on a PRIQ DSQ; owned by the BPF scheduler. */
    public long dsqVtime;
    /** p->scx.disallow: set from ops.init_task() to keep the task out of SCX. */
    public boolean disallow;
    /** p->scx.weight: 1..10000, 100 for nice 0 (read-only for the scheduler). */
    public volatile int weight = 100;
    /** p->scx.cgrp_moving_from: set by the cgroup attach between prep_move and move; cgroup mutex. */
    Cgroup cgrpMovingFrom;

    // --- core -------------------------------------------------------------------------------------
    /** p->scx.flags: SCX_TASK_* bits plus the task state in bits 8-9. */
    int flags;
    /** The DSQ this task is queued on, or null. */
    Dsq dsq;
    /** Intrusive DSQ links (dsq_list.node). */
    Task dsqPrev;
    Task dsqNext;
    /** p->scx.dsq_seq */
    int dsqSeq;
    /** p->scx.dsq_flags: SCX_TASK_DSQ_ON_PRIQ */
    int dsqFlags;
    /**
     * scx-emu's place of this task in its FIFO DSQ (head insertions count down, tail insertions
     * up; DSQ lock), with which a DSQ iterator finds its place again after the task it stopped
     * at left (see {@link DsqIter}); it stands in for the kernel's cursor node in the list.
     */
    long dsqPos;
    /** p->scx.sticky_cpu */
    int stickyCpu = -1;
    /** p->scx.holding_cpu: opaque, see the class comment. */
    @SuppressWarnings("unused")
    private volatile int holdingCpu = -1;
    /** p->scx.ops_state: SCX_OPSS_* in bits 0-1, qseq above. */
    @SuppressWarnings("unused")
    private volatile long opsState;
    /** Runnable list (rq->scx.runnable_list) links. */
    Task runnablePrev;
    Task runnableNext;
    boolean onRunnableList;
    /** p->scx.runnable_at, in ns of the kernel clock. */
    long runnableAt;
    /** p->scx.core_sched_at */
    long coreSchedAt;
    /** p->scx.ddsp_dsq_id / ddsp_enq_flags: the recorded direct-dispatch verdict. */
    long ddspDsqId = SCX_DSQ_INVALID;
    long ddspEnqFlags;

    /**
     * sched_ext_free() has run: the task is gone for sched_ext and the enable and disable loops,
     * which walk a snapshot of the task list, must leave it alone. Task's rq lock.
     */
    boolean freed;

    /** SCX_TASK_DSQ_ON_PRIQ */
    static final int SCX_TASK_DSQ_ON_PRIQ = 1;

    // --- accessors ------------------------------------------------------------------------------

    /** atomic_long_read_acquire(&p->scx.ops_state); pairs with {@link #soOpsState}. */
    long laOpsState() {
        return (long) OPS_STATE.getAcquire(this);
    }

    /** atomic_long_read(): opaque, for WARN checks and dumps. */
    long readOnceOpsState() {
        return (long) OPS_STATE.getOpaque(this);
    }

    /** atomic_long_set(): plain-ordered store by the owner of the transition. */
    void writeOnceOpsState(long v) {
        OPS_STATE.setOpaque(this, v);
    }

    /**
     * atomic_long_set_release(): publishes everything written before (the task on its DSQ,
     * QUEUED after ops.enqueue()); pairs with {@link #laOpsState} in wait_ops_state() and
     * finish_dispatch().
     */
    void soOpsState(long v) {
        OPS_STATE.setRelease(this, v);
    }

    /** atomic_long_try_cmpxchg(): full ordering, as the kernel's. */
    boolean casOpsState(long expect, long update) {
        return OPS_STATE.compareAndSet(this, expect, update);
    }

    int readOnceHoldingCpu() {
        return (int) HOLDING_CPU.getOpaque(this);
    }

    void writeOnceHoldingCpu(int cpu) {
        HOLDING_CPU.setOpaque(this, cpu);
    }

    /** Public, for schedulers and tests: the task's SCX_TASK_* flags (read-only). */
    public int flags() {
        return flags;
    }

    /** scx_get_task_state() */
    int taskState() {
        return (flags & SCX_TASK_STATE_MASK) >> SCX_TASK_STATE_SHIFT;
    }

    /** The id of the DSQ the task is queued on, or SCX_DSQ_INVALID (racy, for display). */
    public long dsqId() {
        Dsq d = dsq;
        return d == null ? SCX_DSQ_INVALID : d.id();
    }

    /** The task's ops state word (opaque read, for tests and dumps). */
    public long opsState() {
        return readOnceOpsState();
    }

    /** The task's holding_cpu (opaque read, for tests and dumps). */
    public int holdingCpu() {
        return readOnceHoldingCpu();
    }

    // VarHandle mechanics
    private static final VarHandle OPS_STATE;
    private static final VarHandle HOLDING_CPU;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            OPS_STATE = l.findVarHandle(SchedExtEntity.class, "opsState", long.class);
            HOLDING_CPU = l.findVarHandle(SchedExtEntity.class, "holdingCpu", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
