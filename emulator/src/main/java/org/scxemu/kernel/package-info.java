// SPDX-License-Identifier: GPL-2.0-only
/**
 * The kernel side of scx-emu: core.c and ext.c as Java.
 *
 * <p>Every ported kernel function carries a {@code // ext.c: name()} (or {@code core.c}) marker so
 * a reader who knows {@code kernel/sched/ext.c} can find any line in seconds.
 *
 * <h2>Which class holds which part of the kernel</h2>
 * ext.c is split along the seams the kernel itself later cut (6.15 moved idle tracking to
 * {@code ext_idle.c}); the markers keep the 6.12 file name, {@code ext.c}, since that is where
 * 6.12 has every one of these functions.
 * <ul>
 *   <li>{@link org.scxemu.kernel.Ext}: the class hooks (enqueue_task_scx(), do_enqueue_task(),
 *       dequeue_task_scx(), ops_dequeue(), balance_scx(), pick_next_task_scx(),
 *       put_prev_task_scx(), set_next_task_scx(), switch_class(), scx_next_task_picked(), tick,
 *       yield), SCX_CALL_OP() and scx_kf_allowed(), scx_ops_error()/exit, bypass, the runnable
 *       list and the watchdog, and the per-task lifecycle (init/enable/disable/exit_task, fork).
 *   <li>{@link org.scxemu.kernel.ExtIdle}: select_task_rq_scx(), scx_select_cpu_dfl(),
 *       test_and_clear_cpu_idle(), scx_pick_idle_cpu(), reset_idle_masks(), scx_update_idle()
 *       and the idle mask (6.15's ext_idle.c).
 *   <li>{@link org.scxemu.kernel.ExtDispatch}: find_user_dsq(), find_dsq_for_dispatch(),
 *       dispatch_enqueue(), dispatch_dequeue(), direct and buffered dispatch
 *       (mark_direct_dispatch(), direct_dispatch(), scx_dispatch_commit(), flush_dispatch_buf(),
 *       finish_dispatch()), dispatch_to_local_dsq(), move_remote_task_to_local_dsq(),
 *       consume_dispatch_q() and its helpers, scx_bpf_reenqueue_local()'s loop, and the
 *       stranded-task accounting.
 *   <li>{@link org.scxemu.kernel.ExtKick}: scx_bpf_kick_cpu(), kick_cpus_irq_workfn(),
 *       kick_one_cpu(), kick_one_cpu_if_idle() and the SCX_KICK_WAIT spin.
 *   <li>{@link org.scxemu.kernel.ExtLifecycle}: scx_ops_enable() and scx_ops_disable_workfn();
 *       {@link org.scxemu.kernel.ExtDump}: scx_dump_state().
 *   <li>{@link org.scxemu.kernel.ExtCgroup}: 6.12's cgroup support (scx_tg_online/offline(),
 *       scx_cgroup_can_attach(), scx_cgroup_move_task(), scx_group_set_weight(),
 *       scx_cgroup_init/exit()) behind {@link org.scxemu.kernel.Cgroups}, the cpu controller's
 *       hierarchy of {@link org.scxemu.kernel.Cgroup}s; {@link org.scxemu.kernel.Hotplug}: CPU
 *       hotplug (sched_cpu_activate/deactivate()'s scheduler steps, handle_hotplug()).
 *   <li>{@link org.scxemu.kernel.Kfuncs}: the kfunc bodies ({@code scx_bpf_*}), counted per
 *       {@link org.scxemu.kernel.Kfunc}; 6.12's additions in
 *       {@link org.scxemu.kernel.KfuncsDsq} (the DSQ iterator, {@link org.scxemu.kernel.DsqIter},
 *       and scx_bpf_dispatch_from_dsq() with move_task_between_dsqs()) and
 *       {@link org.scxemu.kernel.KfuncsCpu} (cpuperf, cpumasks, scx_bpf_task_cgroup()); a kfunc
 *       the profile's kernel lacks is refused ({@link org.scxemu.kernel.Kfunc#since}).
 *   <li>{@link org.scxemu.kernel.Kernel}: core.c (schedule loop, wakeups, ticks, class changes)
 *       and the four simple classes above ext; {@link org.scxemu.kernel.Rq},
 *       {@link org.scxemu.kernel.Task}, {@link org.scxemu.kernel.SchedExtEntity},
 *       {@link org.scxemu.kernel.Dsq}: the kernel's structs.
 *   <li>{@link org.scxemu.kernel.ScxConsts}: the sched_ext constants (names and values).
 * </ul>
 * Ext holds its three parts in final fields ({@code ext.idle}, {@code ext.dispatch},
 * {@code ext.kick}), each a final class with final references back: a call across costs one field
 * load, no allocation.
 *
 * <h2>Dependencies</h2>
 * The kernel does not depend on the scheduler API {@code org.scxemu.scx} except for one type:
 * {@code org.scxemu.scx.SchedExtOps}, the ops table a scheduler implements (the kernel's
 * {@code struct sched_ext_ops}), with its argument records. {@code org.scxemu.scx.Scx} depends
 * on the kernel: its kfuncs call {@link org.scxemu.kernel.Kfuncs} and it re-exports the
 * constants of {@link org.scxemu.kernel.ScxConsts} by implementing that interface.
 *
 * <h2>Why the stress checker is here</h2>
 * {@link org.scxemu.kernel.InvariantChecker} belongs to the stress harness but lives in the
 * kernel package, behind the public {@link org.scxemu.kernel.Tracer} interface the kernel calls.
 * It reads about forty package-private members to check a state the kernel is in right now: the
 * rq and DSQ locks it takes for its whole-machine check, the lock-guarded fields it reads with
 * plain loads under those locks ({@code rq->curr}, {@code rq->idle}, the local DSQ and its list
 * links, {@code p->scx.dsq}, {@code lpCpuReleased()}, {@code lpPntSeq()}), the opaque and acquire
 * accessors of the handshake words ({@code ops_state}, {@code holding_cpu}, {@code on_rq}, the
 * task's CPU) and Ext's state (the DSQ table, bypass, the watchdog timeout, the dump). A public
 * read-only view of all that would publish the kernel's locks and its lock-guarded state, whose
 * access modes are package-private on purpose (see below); so the checker stays here and the
 * harness ({@code org.scxemu.harness.stress}) uses only its public surface (construction,
 * {@code violation()}, the history and counters).
 *
 * <h2>Who owns what</h2>
 * <ul>
 *   <li>{@link org.scxemu.kernel.Rq}: one per simulated CPU. Its {@code lock} (a
 *       {@link org.scxemu.kernel.RacePointLock}, a {@code ReentrantLock} whose {@code lock()} is
 *       a race point; the kernel's rq lock) protects the current task, the per-class run
 *       queues, the local DSQ and every {@code rq->scx} field unless the field says otherwise.
 *   <li>{@link org.scxemu.kernel.Dsq} (global and user DSQs): protected by the DSQ's own lock.
 *       Lock order is rq lock, then DSQ lock; code holding a DSQ lock never takes an rq lock.
 *   <li>{@link org.scxemu.kernel.Task}: {@code piLock} serialises wakeups; the fields of
 *       {@code p->scx} are protected by the lock of the rq the task is on, except
 *       {@code opsState} and {@code holdingCpu}, which are the cross-CPU handshake words.
 *   <li>{@link org.scxemu.kernel.ExecCtx}: one per kernel-executing thread (the kernel's
 *       {@code current} plus its per-CPU scratch): owned by that thread only.
 * </ul>
 *
 * <h2>Access-mode vocabulary</h2>
 * Private accessors carry the access mode in their name, as JCTools does:
 * <ul>
 *   <li>{@code lp*} / {@code sp*}: plain load / store (only under the guarding lock or by the
 *       owning thread);
 *   <li>{@code readOnce*} / {@code writeOnce*}: opaque access, the kernel's READ_ONCE() /
 *       WRITE_ONCE(): no tearing, no ordering;
 *   <li>{@code la*} / {@code so*}: load-acquire / store-release (smp_load_acquire() /
 *       smp_store_release());
 *   <li>{@code lv*} / {@code sv*}: volatile load / store (sequentially consistent);
 *   <li>{@code cas*}: compare-and-set (atomic_long_try_cmpxchg()).
 * </ul>
 * Public accessors use Agrona's suffix form instead: {@code getPntSeqAcquire()},
 * {@code setCpuReleasedRelease()}. We say "Release", never "Ordered" or "lazySet". Every release
 * names the acquire it pairs with and the reverse; a benign race says so and why.
 */
package org.scxemu.kernel;
