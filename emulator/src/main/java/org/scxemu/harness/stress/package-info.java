// SPDX-License-Identifier: GPL-2.0-only
/**
 * {@code ./scx-emu stress}: {@link org.scxemu.harness.stress.StressRunner} runs a scheduler on a
 * workload while {@link org.scxemu.harness.stress.Chaos} injects trouble (configured by
 * {@link org.scxemu.harness.stress.ChaosConfig}; {@link org.scxemu.harness.stress.DelayHook} widens
 * the core's race windows at {@link org.scxemu.kernel.RacePoint}s) and the kernel's
 * {@link org.scxemu.kernel.InvariantChecker} checks every event and, periodically, the whole
 * machine.
 *
 * <p>Threads: in a free-running stress run the harness thread drives the run and makes the
 * whole-machine checks, one {@code scx-chaos} thread injects (and reloads the scheduler through the
 * runner's callback, serialised with the end of the run by the runner's lifecycle lock), and the
 * CPU threads run the tasks and emit the checker's events. In a controlled run the harness thread
 * is the controller's driver: the workload's start, every chaos step ({@code Chaos.step()}) and
 * every whole-machine check run as controlled actions, one thread at a time, so the seed decides
 * everything.
 */
package org.scxemu.harness.stress;
