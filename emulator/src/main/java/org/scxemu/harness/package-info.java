// SPDX-License-Identifier: GPL-2.0-only
/**
 * The harness: simulated CPUs as threads ({@code cpu-N}) or stepped by hand, workloads, metrics,
 * trace output. A {@link org.scxemu.harness.Machine} owns one kernel; each CPU's state is owned by
 * its thread, the machine's lifecycle fields by the thread that calls {@code start}/{@code stop}.
 */
package org.scxemu.harness;
