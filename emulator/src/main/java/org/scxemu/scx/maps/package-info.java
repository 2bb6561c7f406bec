// SPDX-License-Identifier: GPL-2.0-only
/**
 * BPF maps for schedulers written in Java: small, thread-safe stand-ins for the map types the
 * example schedulers use, each named after and documented with the BPF map type it replaces.
 *
 * <ul>
 *   <li>{@link org.scxemu.scx.maps.QueueMap}: {@code BPF_MAP_TYPE_QUEUE} of u32 values;
 *   <li>{@link org.scxemu.scx.maps.TaskStorage}: {@code BPF_MAP_TYPE_TASK_STORAGE};
 *   <li>{@link org.scxemu.scx.maps.PerCpuArray}: {@code BPF_MAP_TYPE_PERCPU_ARRAY} of u64 values.
 * </ul>
 *
 * <h2>Who owns what</h2>
 * A map belongs to the scheduler that created it and is shared by every thread that runs the
 * scheduler's ops (the {@code cpu-N} threads, waker threads, the sched_ext helper thread running
 * the dump ops) and by its user-space half. Like their BPF originals the maps take no lock of the
 * kernel's and may be used from any op: {@code QueueMap} and {@code TaskStorage} are lock-free for
 * every thread; a {@code PerCpuArray} row is written only by the thread running on that CPU and read
 * racily by everyone else. Each class states its memory consistency effects.
 *
 * <p>Access-mode vocabulary as in {@code org.scxemu.kernel}: opaque is the kernel's
 * READ_ONCE()/WRITE_ONCE(); public methods use Agrona's suffix form ({@code getOpaque},
 * {@code setOpaque}).
 */
package org.scxemu.scx.maps;
