// SPDX-License-Identifier: GPL-2.0-only
/**
 * Workloads: the tasks a run forks and what they do ({@link org.scxemu.harness.workload.Workload}).
 *
 * <p>Ownership: a workload's fields are written by {@link
 * org.scxemu.harness.workload.Workload#start} on the harness thread before the tasks it forks can
 * run; each task's behaviour state is owned by the CPU thread currently running that task (the
 * scheduler core orders one run before the next, as {@code on_cpu} does in the kernel); the
 * harness reads everything in {@code report()} after joining the CPU threads.
 */
package org.scxemu.harness.workload;
