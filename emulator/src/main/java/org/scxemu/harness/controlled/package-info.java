// SPDX-License-Identifier: GPL-2.0-only
/**
 * Controlled interleaving: the CPU threads run the real kernel code, but one at a time, handing
 * the machine over at the core's race points ({@link org.scxemu.kernel.RacePoint}), with the next
 * runner chosen by a seeded {@link org.scxemu.harness.controlled.Strategy}. Same seed, same
 * interleaving, same trace. Time is a manual clock advanced by the work done.
 *
 * <p>Ownership: a {@link org.scxemu.harness.controlled.Controller} is driven by one thread (the
 * driver: the harness thread that calls {@code start}, {@code runUntil}, {@code stop}); its
 * participants (the CPU threads, the watchdog, the ops helper, the harness's actions) run only
 * while they hold the turn, which the driver hands out when a run starts and the participants
 * then pass among themselves, choosing the next at every hand-over, until the run must return;
 * so every field here is owned by whoever holds the turn (see {@code Controller}). Where the JVM
 * has virtual threads, {@link org.scxemu.harness.controlled.Carriers} runs the participants (and
 * a stress run's driver) on one carrier, which makes a hand-over a continuation switch.
 */
package org.scxemu.harness.controlled;
