package org.scxemu.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * {@code scx-emu stress}: reserved. The invariant-checking runner (chaos settings, exit status 3
 * on a violation) is issue 7; until then it says so and exits 2, whatever its arguments.
 */
@Command(name = "stress", description = "Run with invariant checks and chaos (not implemented yet: issue 7).")
final class StressCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** Accepted and ignored, so that any stress command line gets the same answer. */
    @Unmatched
    List<String> ignored;

    @Override
    public Integer call() {
        spec.commandLine().getErr().println(Main.PREFIX + "stress: not implemented yet (issue 7)");
        return Main.EXIT_USAGE;
    }
}
