// SPDX-License-Identifier: GPL-2.0-only
/**
 * The kernel side of scx-emu: core.c and ext.c as Java.
 *
 * <p>Every ported kernel function carries a {@code // ext.c: name()} (or {@code core.c}) marker so
 * a reader who knows {@code kernel/sched/ext.c} can find any line in seconds.
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
