// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

/**
 * Trace points (the kernel's tracepoints): called on the CPU threads, under the rq lock where the
 * kernel's are. Implementations must be cheap and must not call back into the kernel. The default
 * does nothing.
 */
public interface Tracer {
    Tracer NONE = new Tracer() {
    };

    /** sched_switch */
    default void sched_switch(int cpu, long nowNs, Task prev, Task next) {
    }

    /** ops.cpu_release() was called (or would have been: the op may be absent). */
    default void cpu_release(int cpu, long nowNs, int reason, Task next) {
    }

    /** ops.cpu_acquire() was called (or the flag cleared). */
    default void cpu_acquire(int cpu, long nowNs) {
    }

    /** A kick was sent from {@code cpu} to {@code target}. */
    default void kick(int cpu, long nowNs, int target, long flags) {
    }

    /** scx_bpf_reenqueue_local() re-enqueued {@code nr} tasks. */
    default void reenqueue(int cpu, long nowNs, int nr) {
    }

    /** The scheduler exited. */
    default void scx_exit(long nowNs, ExitInfo info) {
    }

    // The points below have no kernel tracepoint: they feed scx-emu's stress invariant checker.

    /** __schedule() on {@code cpu} picked {@code next} (possibly prev again), rq lock held. */
    default void pick(int cpu, Task prev, Task next) {
    }

    /** A scheduler tick on {@code cpu} (rq lock held), before the class's task_tick(). */
    default void tick(int cpu, Task curr) {
    }

    /** ops.cpu_release() is about to be called on {@code cpu}; {@link #cpu_release} follows. */
    default void cpu_release_begin(int cpu) {
    }

    /** scx_bpf_reenqueue_local() starts on {@code cpu}; {@link #reenqueue} follows. */
    default void reenqueue_begin(int cpu) {
    }

    /** ops.enqueue({@code p}, {@code enqFlags}) is about to be called on {@code cpu}. */
    default void enqueue(int cpu, Task p, long enqFlags) {
    }

    /** ops.dispatch() on {@code cpu} asked to dispatch {@code p} to {@code dsqId} (buffered). */
    default void dispatch(int cpu, Task p, long dsqId) {
    }

    /** {@code p}'s ops-state word goes from {@code from} to {@code to} (state and qseq). */
    default void ops_state(Task p, long from, long to) {
    }

    /**
     * {@code p}'s ops-state word is about to be stored NONE by SCX_ENQ_CLEAR_OPSS (from QUEUEING or
     * DISPATCHING, or NONE for a select_cpu() direct dispatch). The word is the calling thread's
     * until that store, so a tracer that wants the old value reads it; the kernel does not, to
     * keep an opaque load off the insert path.
     */
    default void ops_state_clear(Task p) {
    }

    /**
     * {@code cpu} is still spinning in SCX_KICK_WAIT on {@code target}, whose pnt_seq was
     * {@code pseq} and context-switch count {@code switches} when it was kicked.
     */
    default void kick_wait_spin(int cpu, Rq target, long pseq, long switches) {
    }
    /** Both tracers, {@code a} first. */
    static Tracer tee(Tracer a, Tracer b) {
        if (a == NONE) {
            return b;
        }
        if (b == NONE) {
            return a;
        }
        return new Tracer() {
            @Override
            public void sched_switch(int cpu, long nowNs, Task prev, Task next) {
                a.sched_switch(cpu, nowNs, prev, next);
                b.sched_switch(cpu, nowNs, prev, next);
            }

            @Override
            public void cpu_release(int cpu, long nowNs, int reason, Task next) {
                a.cpu_release(cpu, nowNs, reason, next);
                b.cpu_release(cpu, nowNs, reason, next);
            }

            @Override
            public void cpu_acquire(int cpu, long nowNs) {
                a.cpu_acquire(cpu, nowNs);
                b.cpu_acquire(cpu, nowNs);
            }

            @Override
            public void kick(int cpu, long nowNs, int target, long flags) {
                a.kick(cpu, nowNs, target, flags);
                b.kick(cpu, nowNs, target, flags);
            }

            @Override
            public void reenqueue(int cpu, long nowNs, int nr) {
                a.reenqueue(cpu, nowNs, nr);
                b.reenqueue(cpu, nowNs, nr);
            }

            @Override
            public void scx_exit(long nowNs, ExitInfo info) {
                a.scx_exit(nowNs, info);
                b.scx_exit(nowNs, info);
            }

            @Override
            public void pick(int cpu, Task prev, Task next) {
                a.pick(cpu, prev, next);
                b.pick(cpu, prev, next);
            }

            @Override
            public void tick(int cpu, Task curr) {
                a.tick(cpu, curr);
                b.tick(cpu, curr);
            }

            @Override
            public void cpu_release_begin(int cpu) {
                a.cpu_release_begin(cpu);
                b.cpu_release_begin(cpu);
            }

            @Override
            public void reenqueue_begin(int cpu) {
                a.reenqueue_begin(cpu);
                b.reenqueue_begin(cpu);
            }

            @Override
            public void enqueue(int cpu, Task p, long enqFlags) {
                a.enqueue(cpu, p, enqFlags);
                b.enqueue(cpu, p, enqFlags);
            }

            @Override
            public void dispatch(int cpu, Task p, long dsqId) {
                a.dispatch(cpu, p, dsqId);
                b.dispatch(cpu, p, dsqId);
            }

            @Override
            public void ops_state(Task p, long from, long to) {
                a.ops_state(p, from, to);
                b.ops_state(p, from, to);
            }

            @Override
            public void ops_state_clear(Task p) {
                a.ops_state_clear(p);
                b.ops_state_clear(p);
            }

            @Override
            public void kick_wait_spin(int cpu, Rq target, long pseq, long switches) {
                a.kick_wait_spin(cpu, target, pseq, switches);
                b.kick_wait_spin(cpu, target, pseq, switches);
            }
        };
    }
}
