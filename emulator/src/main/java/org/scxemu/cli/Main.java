// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import org.scxemu.kernel.Printable;
import org.scxemu.kernel.UserFaults;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code scx-emu}: the command line. {@code run} runs a scheduler on a workload, {@code list}
 * names what can be run, {@code stress} is reserved for the invariant-checking runner.
 *
 * <p>Exit status (the design's contract): 0 the scheduler ran to the end and was unloaded
 * normally; 1 it was ejected (or failed to load); 2 bad usage, with one line on stderr starting
 * {@code scx-emu: }; 3 {@code stress} found an invariant violation; 70 an internal error of
 * scx-emu itself (one line, never a stack trace).
 *
 * <p>Threads: {@link #execute} runs on the caller's thread and returns when the command is done;
 * it may be called again (tests call it in-process), but one run at a time, as only one
 * scheduler can be loaded in a JVM.
 */
@Command(name = "scx-emu", mixinStandardHelpOptions = true, version = "scx-emu 0.1.0",
        description = "An emulator of Linux's sched_ext (the extensible scheduler class).",
        subcommands = {RunCommand.class, ListCommand.class, StressCommand.class,
            CommandLine.HelpCommand.class})
public final class Main implements Callable<Integer> {
    public static final int EXIT_OK = 0;
    public static final int EXIT_EJECTED = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_VIOLATION = 3;
    /**
     * EX_IOERR (sysexits.h): the run completed cleanly but its --json or --trace could not be
     * written (a run that ended in an ejection keeps status 1).
     */
    public static final int EXIT_IO = 74;
    /** EX_SOFTWARE (sysexits.h): an internal error of scx-emu. */
    public static final int EXIT_INTERNAL = 70;
    /** Every line scx-emu itself writes to stderr starts with this. */
    static final String PREFIX = "scx-emu: ";

    /**
     * Whether stdout is a terminal ({@code System.console() != null}), for the progress indicator.
     * Set only by {@link #main}, before anything runs; in-process callers of {@link #execute} (the
     * tests) write to their own streams and get no indicator.
     */
    static volatile boolean terminal;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing command: run, list or stress (see scx-emu --help)");
    }

    public static void main(String[] args) {
        Thread.setDefaultUncaughtExceptionHandler(Main::uncaught);
        terminal = System.console() != null;
        CutShort.install(System.out, System.err);
        int rc = execute(System.out, System.err, args);
        System.out.flush();
        System.err.flush();
        CutShort.finished();
        System.exit(rc);
    }

    /**
     * The process's last word on an exception no thread caught: a scheduler's own thread's fault
     * ejects that scheduler (the run goes on to its report); anything else is scx-emu's internal
     * error, one line and exit 70.
     */
    static void uncaught(Thread t, Throwable e) {
        try {
            if (UserFaults.blameUncaught(t, e)) {
                return;
            }
        } catch (Throwable again) { // reporting failed: fall through to the internal error
        }
        System.err.println(PREFIX + "internal error: uncaught on thread " + t.getName() + ": " + oneLine(e));
        System.err.flush();
        Runtime.getRuntime().halt(EXIT_INTERNAL);
    }

    /**
     * Runs the command line {@code args} with its output on {@code out} and {@code err}, and
     * returns the exit status. Never throws and never prints a stack trace.
     */
    public static int execute(PrintStream out, PrintStream err, String... args) {
        PrintWriter o = new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true);
        PrintWriter e = new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true);
        try {
            CommandLine cl = new CommandLine(new Main());
            cl.setOut(o);
            cl.setErr(e);
            cl.setParameterExceptionHandler((ex, a) -> {
                e.println(PREFIX + usageMessage(ex));
                return EXIT_USAGE;
            });
            cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
                e.println(PREFIX + "internal error: " + oneLine(ex));
                return EXIT_INTERNAL;
            });
            return cl.execute(args);
        } catch (Throwable t) { // the last line of defence: one line, never a stack trace
            e.println(PREFIX + "internal error: " + oneLine(t));
            return EXIT_INTERNAL;
        } finally {
            o.flush();
            e.flush();
        }
    }

    /** A bad-usage message, on one line; an unknown command says which commands there are. */
    private static String usageMessage(CommandLine.ParameterException ex) {
        if (ex instanceof CommandLine.UnmatchedArgumentException && ex.getCommandLine().getParent() == null) {
            CommandLine.UnmatchedArgumentException u = (CommandLine.UnmatchedArgumentException) ex;
            if (!u.isUnknownOption() && !u.getUnmatched().isEmpty()) {
                return "unknown command '" + u.getUnmatched().get(0) + "'; commands: "
                        + String.join(", ", ex.getCommandLine().getSubcommands().keySet());
            }
        }
        return oneLine(ex.getMessage());
    }

    /** {@code t} as one line: its class and message, and the first frame that threw it. */
    static String oneLine(Throwable t) {
        StringBuilder sb = new StringBuilder(t.getClass().getName());
        if (t.getMessage() != null) {
            sb.append(": ").append(oneLine(t.getMessage()));
        }
        StackTraceElement[] st = t.getStackTrace();
        if (st.length > 0) {
            sb.append(" (at ").append(st[0]).append(')');
        }
        return sb.toString();
    }

    /** {@code s} on one line: line breaks become "; ". */
    static String oneLine(String s) {
        return s == null ? "" : Printable.escape(s.strip().replaceAll("\\s*[\\r\\n]+\\s*", "; "), Integer.MAX_VALUE);
    }
}
