// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.scx;

import org.scxemu.kernel.Cgroup;
import org.scxemu.kernel.CpuMask;
import org.scxemu.kernel.ExitInfo;
import org.scxemu.kernel.Task;

/**
 * {@code struct sched_ext_ops}: a BPF scheduler, written in Java.
 *
 * <p>Every op is a default method; a scheduler implements the ones it needs. A default method
 * means the op is <em>absent</em>: the kernel detects that at load (the {@code SCX_HAS_OP()} static
 * keys) and behaves as it does for a missing op: no {@code select_cpu} means
 * {@code scx_select_cpu_dfl()} with direct dispatch to an idle CPU, no {@code enqueue} means the
 * global DSQ, no {@code dispatch} means only the global DSQ is consumed, and so on. The default
 * bodies are never called.
 *
 * <p>Ops run on the simulated CPU threads with the kernel's locks held (see the table in the
 * spec, section 2.1) and may only call the kfuncs their context allows ({@link Scx}); a kfunc
 * called from the wrong context ejects the scheduler with the kernel's error. Schedulers keep
 * their state in their own fields and maps ({@code org.scxemu.scx.maps}); they never see an rq
 * or a lock.
 */
public interface SchedExtOps {
    /** ops.name: a non-empty BPF object name (alnum, '_' and '.'), at most 127 characters. */
    String name();

    /** ops.flags: SCX_OPS_* */
    default long flags() {
        return 0;
    }

    /** ops.dispatch_max_batch: 0 means SCX_DSP_DFL_MAX_BATCH (32). */
    default int dispatchMaxBatch() {
        return 0;
    }

    /** ops.timeout_ms: 0 means 30 s; at most 30 s. */
    default int timeoutMs() {
        return 0;
    }

    /** ops.exit_dump_len: 0 means SCX_EXIT_DUMP_DFL_LEN. */
    default int exitDumpLen() {
        return 0;
    }

    /** ops.select_cpu(p, prev_cpu, wake_flags) */
    default int selectCpu(Task p, int prevCpu, long wakeFlags) {
        throw absent();
    }

    /** ops.enqueue(p, enq_flags) */
    default void enqueue(Task p, long enqFlags) {
        throw absent();
    }

    /** ops.dequeue(p, deq_flags) */
    default void dequeue(Task p, long deqFlags) {
        throw absent();
    }

    /** ops.dispatch(cpu, prev): prev may be null. */
    default void dispatch(int cpu, Task prev) {
        throw absent();
    }

    /** ops.tick(p) */
    default void tick(Task p) {
        throw absent();
    }

    /** ops.runnable(p, enq_flags) */
    default void runnable(Task p, long enqFlags) {
        throw absent();
    }

    /** ops.running(p) */
    default void running(Task p) {
        throw absent();
    }

    /** ops.stopping(p, runnable) */
    default void stopping(Task p, boolean runnable) {
        throw absent();
    }

    /** ops.quiescent(p, deq_flags) */
    default void quiescent(Task p, long deqFlags) {
        throw absent();
    }

    /** ops.yield(from, to): to may be null. */
    default boolean yield(Task from, Task to) {
        throw absent();
    }

    /** ops.core_sched_before(a, b) */
    default boolean coreSchedBefore(Task a, Task b) {
        throw absent();
    }

    /** ops.set_weight(p, weight) */
    default void setWeight(Task p, int weight) {
        throw absent();
    }

    /** ops.set_cpumask(p, cpumask) */
    default void setCpumask(Task p, CpuMask cpumask) {
        throw absent();
    }

    /** ops.update_idle(cpu, idle) */
    default void updateIdle(int cpu, boolean idle) {
        throw absent();
    }

    /** ops.cpu_acquire(cpu, args): the CPU is available to the BPF scheduler again (the seed). */
    default void cpuAcquire(int cpu, CpuAcquireArgs args) {
        throw absent();
    }

    /** ops.cpu_release(cpu, args): a higher class took the CPU (the seed). */
    default void cpuRelease(int cpu, CpuReleaseArgs args) {
        throw absent();
    }

    /** ops.init_task(p, args): 0 or a negative errno. */
    default int initTask(Task p, InitTaskArgs args) {
        throw absent();
    }

    /** ops.exit_task(p, args) */
    default void exitTask(Task p, ExitTaskArgs args) {
        throw absent();
    }

    /** ops.enable(p) */
    default void enable(Task p) {
        throw absent();
    }

    /** ops.disable(p) */
    default void disable(Task p) {
        throw absent();
    }

    /** ops.dump(ctx): print with scx_bpf_dump(). */
    default void dump(DumpCtx ctx) {
        throw absent();
    }

    /** ops.dump_cpu(ctx, cpu, idle) */
    default void dumpCpu(DumpCtx ctx, int cpu, boolean idle) {
        throw absent();
    }

    /** ops.dump_task(ctx, p) */
    default void dumpTask(DumpCtx ctx, Task p) {
        throw absent();
    }

    /**
     * ops.cgroup_init(cgrp, args): a cgroup comes online, or exists when the scheduler loads
     * (6.12; never called under the v7 profile). 0 or a negative errno (refuses the mkdir, or
     * at load ejects the scheduler).
     */
    default int cgroupInit(Cgroup cgrp, CgroupInitArgs args) {
        throw absent();
    }

    /** ops.cgroup_exit(cgrp): a cgroup goes offline, or the scheduler unloads (6.12). */
    default void cgroupExit(Cgroup cgrp) {
        throw absent();
    }

    /** ops.cgroup_prep_move(p, from, to): 0 or a negative errno, which refuses the move (6.12). */
    default int cgroupPrepMove(Task p, Cgroup from, Cgroup to) {
        throw absent();
    }

    /** ops.cgroup_move(p, from, to): the task is now in {@code to} (6.12). */
    default void cgroupMove(Task p, Cgroup from, Cgroup to) {
        throw absent();
    }

    /** ops.cgroup_cancel_move(p, from, to): a prepared move did not happen (6.12). */
    default void cgroupCancelMove(Task p, Cgroup from, Cgroup to) {
        throw absent();
    }

    /** ops.cgroup_set_weight(cgrp, weight): cpu.weight changed (6.12). */
    default void cgroupSetWeight(Cgroup cgrp, int weight) {
        throw absent();
    }

    /** ops.cpu_online(cpu) */
    default void cpuOnline(int cpu) {
        throw absent();
    }

    /** ops.cpu_offline(cpu) */
    default void cpuOffline(int cpu) {
        throw absent();
    }

    /** ops.init(): 0 or a negative errno. */
    default int init() {
        throw absent();
    }

    /** ops.exit(info) */
    default void exit(ExitInfo info) {
        throw absent();
    }

    /**
     * {@code ops.hotplug_seq}: the hotplug sequence the scheduler saw when it was set up (read from
     * {@code Hotplug.seq()}); 0 (the default) skips the check. A mismatch at load ejects it with
     * SCX_ECODE_ACT_RESTART | SCX_ECODE_RSN_HOTPLUG (UNREG_KERN).
     */
    default long hotplugSeq() {
        return 0;
    }

    /** The scheduler's own counters (the {@code nr_*} variables of its BPF side), for stats. */
    default java.util.Map<String, Long> stats() {
        return java.util.Map.of();
    }

    /** The scheduler's once-a-second stats line(s), as its user-space half prints them. */
    default String statsLine() {
        return null;
    }

    private static IllegalStateException absent() {
        return new IllegalStateException("absent op called; the kernel never calls an absent op");
    }

    /** {@code struct scx_cpu_acquire_args}: empty (the kernel passes NULL). */
    record CpuAcquireArgs() {
    }

    /**
     * {@code struct scx_cpu_release_args}.
     *
     * @param reason SCX_CPU_PREEMPT_RT, _DL, _STOP or _UNKNOWN
     * @param task the task about to run on the CPU
     */
    record CpuReleaseArgs(int reason, Task task) {
    }

    /**
     * {@code struct scx_init_task_args}.
     *
     * @param fork whether the task is being forked (else it exists when the scheduler loads)
     * @param cgroup the task's cgroup (6.12; null under the v7 profile, which has no cgroup support)
     */
    record InitTaskArgs(boolean fork, Cgroup cgroup) {
        public InitTaskArgs(boolean fork) {
            this(fork, null);
        }
    }

    /** {@code struct scx_cgroup_init_args}: the group's cpu.weight. */
    record CgroupInitArgs(int weight) {
    }

    /** {@code struct scx_exit_task_args}: cancelled when the task never became READY. */
    record ExitTaskArgs(boolean cancelled) {
    }

    /** {@code struct scx_dump_ctx}. */
    record DumpCtx(int kind, long exitCode, String reason, long atNs) {
    }
}
