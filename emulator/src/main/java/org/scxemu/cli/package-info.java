// SPDX-License-Identifier: GPL-2.0-only
/**
 * The command line: {@code scx-emu run}, {@code list} and (reserved) {@code stress}, on picocli.
 *
 * <p>Threads: a command runs on the thread that called {@link org.scxemu.cli.Main#execute}; its
 * fields (the parsed options) are written by picocli before {@code call()} and read only by that
 * thread. Output goes to the {@code PrintWriter}s picocli was given, from that thread only (the
 * once-a-second lines are printed by the harness thread, which is that same thread).
 */
package org.scxemu.cli;
