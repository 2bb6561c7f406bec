// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.scxemu.harness.Json;

/**
 * What the process says when it is made to exit before a command finished: Ctrl-C (SIGINT),
 * SIGTERM, or {@code System.exit()} called by a scheduler's code (Java 17 has no supported way to
 * forbid that; its shutdown hooks still run). The shutdown hook removes the temporary files of an
 * output being written, erases the progress line, says on one line that the run was cut short
 * and why, writes a JSON summary marked {@code "cut_short"} to --json (the facts known before the
 * run; the run's figures are not), and ends the process with a non-zero status: 130 for SIGINT,
 * 143 for SIGTERM, 1 for anything else (the scheduler's exit is its fault).
 *
 * <p>Threads: {@link #running} is set and cleared by the command's thread; the signal handlers
 * and the hook read it. Every field is volatile.
 */
final class CutShort {
    static final int EXIT_SIGINT = 130;
    static final int EXIT_SIGTERM = 143;

    /** The run in progress: where its JSON goes (or null), its facts, its progress line (or null). */
    record Run(Path json, Map<String, Object> facts, Progress progress, long startNs) {
    }

    private static volatile Run running;
    /** The signal that asked the process to exit, or null. */
    private static volatile String signal;
    /** Set just before the command's own System.exit(): the hook has nothing to do then. */
    private static volatile boolean finished;

    private CutShort() {
    }

    /** Installs the hook and the signal handlers (the process only, never the in-process tests). */
    static void install(PrintStream out, PrintStream err) {
        for (String sig : new String[] {"INT", "TERM"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(sig), s -> {
                    signal = "SIG" + s.getName();
                    System.exit("INT".equals(s.getName()) ? EXIT_SIGINT : EXIT_SIGTERM);
                });
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                // the JVM reserves this signal (-Xrs): the hook below still runs
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> onExit(out, err), "scx-emu-cut-short"));
    }

    static void running(Run r) {
        running = r;
    }

    static void done() {
        running = null;
    }

    static void finished() {
        finished = true;
    }

    private static void onExit(PrintStream out, PrintStream err) {
        if (finished) {
            return;
        }
        Json.removeStaging();
        Run r = running;
        String sig = signal;
        String why = sig != null ? "interrupted (" + sig + ")"
                : "the process was told to exit (System.exit() called by the scheduler's code?)";
        if (r != null && r.progress() != null) {
            r.progress().clear();
        }
        out.flush();
        err.println(Main.PREFIX + why + (r != null ? ": the run was cut short, its results are lost" : ""));
        if (r != null && r.json() != null && !Json.isStdout(r.json())) {
            Map<String, Object> j = new LinkedHashMap<>(r.facts());
            Map<String, Object> cut = new LinkedHashMap<>();
            cut.put("reason", sig != null ? sig : "exit");
            cut.put("after_ns", System.nanoTime() - r.startNs());
            j.put("cut_short", cut);
            try {
                Json.writeAtomically(r.json(), Json.write(j));
            } catch (Exception e) {
                err.println(Main.PREFIX + "cannot write " + r.json() + ": " + Main.oneLine(e.toString()));
            }
        }
        err.flush();
        Runtime.getRuntime().halt(sig == null ? Main.EXIT_EJECTED : "SIGINT".equals(sig) ? EXIT_SIGINT : EXIT_SIGTERM);
    }
}
