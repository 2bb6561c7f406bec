// SPDX-License-Identifier: GPL-2.0-only
/**
 * Example schedulers: Java ports of the BPF schedulers in the kernel's {@code tools/sched_ext},
 * written only against the scheduler surface ({@link org.scxemu.scx.SchedExtOps},
 * {@link org.scxemu.scx.Scx}, {@link org.scxemu.scx.maps}), so each reads like its BPF original.
 *
 * <ul>
 *   <li>{@link org.scxemu.schedulers.ScxSimple}: {@code scx_simple}, global FIFO or weighted
 *       vtime;
 *   <li>{@link org.scxemu.schedulers.ScxQmap} / {@link org.scxemu.schedulers.ScxQmapNoCpuRelease}
 *       (common core {@link org.scxemu.schedulers.QmapCore}): {@code scx_qmap} as of the
 *       cpu_acquire/cpu_release seed, five weighted FIFOs, fault injection;
 *   <li>{@link org.scxemu.schedulers.ScxCentral}: {@code scx_central}, every decision on one
 *       central CPU, {@code SCX_DSQ_LOCAL_ON} dispatch with infinite slices, a pinned 1 ms BPF
 *       timer for preemption;
 *   <li>{@link org.scxemu.schedulers.ScxPair} / {@link org.scxemu.schedulers.ScxPairNoCpuRelease}
 *       (common core {@link org.scxemu.schedulers.PairCore}): {@code scx_pair}, sibling CPUs run
 *       one cgroup at a time, kept strict under RT by cpu_release/cpu_acquire and
 *       {@code SCX_KICK_WAIT}.
 * </ul>
 *
 * <h2>Who owns what</h2>
 * A scheduler object is the BPF program's global state plus its user-space half. Its ops run
 * concurrently on every {@code cpu-N} thread, on waker threads (select_cpu, enqueue of a woken
 * task) and on the sched_ext helper thread (the dump ops, exit): every field that more than one
 * op touches is either immutable after construction (the BPF side's {@code const volatile}
 * rodata), an atomic (the {@code nr_*} counters, which BPF updates with
 * {@code __sync_fetch_and_add()}), or one of the thread-safe maps. Per-task state in task storage
 * is guarded by the kernel's locks on the task, exactly as the BPF original relies on them; the
 * class comments say which. Schedulers never see an rq or a lock.
 *
 * <p>Like a BPF skeleton, a scheduler object is opened and loaded once: its maps and counters
 * start empty at construction and are not reset by {@code ops.init()}; make a new object for
 * each load.
 */
package org.scxemu.schedulers;
