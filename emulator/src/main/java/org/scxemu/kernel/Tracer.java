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
}
