// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** Runs the real CLI in-process through {@link Main#execute} and captures what it printed. */
final class CliRunner {
    private CliRunner() {
    }

    /** The exit status and the captured stdout and stderr of one command line. */
    record Result(String[] args, int code, String out, String err) {
        List<String> errLines() {
            return err.isEmpty() ? List.of() : Arrays.asList(err.split("\n", -1)).stream()
                    .filter(l -> !l.isEmpty()).collect(Collectors.toList());
        }

        List<String> outLines() {
            return out.isEmpty() ? List.of() : Arrays.asList(out.split("\n"));
        }

        /** For assertion messages: what was run and what it said. */
        String describe() {
            return "scx-emu " + String.join(" ", args) + " -> " + code + "\n--- stdout:\n" + out + "\n--- stderr:\n"
                    + err;
        }
    }

    /**
     * Runs a command line that must be bad usage: exit status 2, one line on stderr starting with
     * {@code "scx-emu: " + expectedStart}, nothing on stdout.
     */
    static Result runBadUsage(String expectedStart, String... args) {
        Result r = run(args);
        assertEquals(Main.EXIT_USAGE, r.code(), r.describe());
        assertEquals(1, r.errLines().size(), r.describe());
        assertTrue(r.err().startsWith("scx-emu: " + expectedStart), r.describe());
        assertEquals("", r.out(), r.describe());
        return r;
    }

    static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Main.execute(o, e, args);
        }
        return new Result(args, code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
