// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Defect classes 5, 6 and 9: workload files are bounded (depth, size, regular files only,
 * phases that cannot overflow) and their text is escaped in error lines; a scheduler's bad
 * {@code name()} or {@code timeoutMs()} says which field and why; the help names what can be
 * given ({@code class:}, {@code file:}, the duration units) and {@code help run} answers.
 */
class RobustInputTest {
    @TempDir
    Path dir;

    @AfterEach
    void clear() {
        System.clearProperty("hostile.timeout_ms");
        System.clearProperty("hostile.op");
        System.clearProperty("hostile.act");
    }

    private CliRunner.Result workload(String content) throws Exception {
        Path f = dir.resolve("w.json");
        Files.writeString(f, content, StandardCharsets.UTF_8);
        return CliRunner.run("run", "--scheduler", "simple", "--workload", "file:" + f, "--duration", "100ms",
                "--json", dir.resolve("out.json").toString());
    }

    private void badUsage(CliRunner.Result r, String expected) {
        assertEquals(Main.EXIT_USAGE, r.code(), r.describe());
        assertEquals(1, r.errLines().size(), r.describe());
        assertTrue(r.err().contains(expected), "'" + expected + "' in " + r.describe());
        assertFalse(Files.exists(dir.resolve("out.json")), "nothing written");
        for (char c : r.err().toCharArray()) {
            assertTrue(c == '\n' || c >= 0x20 && c != 0x7f, "no raw control character: " + r.describe());
        }
    }

    @Test
    void deepNestingIsOneLineNotAStackOverflow() throws Exception {
        badUsage(workload("[".repeat(5000) + "]".repeat(5000)), "nested deeper than 64");
    }

    @Test
    void aHugeFileIsRefusedBeforeItIsRead() throws Exception {
        badUsage(workload("{\"tasks\": [" + " ".repeat(2 << 20) + "]}"), "too big");
    }

    @Test
    void aFifoOrDeviceIsNotAWorkloadFile() throws Exception {
        CliRunner.Result r = CliRunner.run("run", "--scheduler", "simple", "--workload", "file:/dev/zero");
        assertEquals(Main.EXIT_USAGE, r.code(), r.describe());
        assertTrue(r.err().contains("not a regular file"), r.describe());
        Path fifo = dir.resolve("fifo");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assumeTrue(mk.waitFor(10, TimeUnit.SECONDS) && mk.exitValue() == 0, "mkfifo available");
        r = CliRunner.run("run", "--scheduler", "simple", "--workload", "file:" + fifo);
        assertEquals(Main.EXIT_USAGE, r.code(), "no writer: refused, not blocked: " + r.describe());
    }

    @Test
    void aPhaseTooLongForTheArithmeticIsRefused() throws Exception {
        badUsage(workload("{\"tasks\": [{\"name\": \"a\", \"phases\": [{\"sleep_ns\": 9223372036854775807}]}]}"),
                "sleep_ns: 9223372036854775807 out of range");
    }

    @Test
    void escapeSequencesFromTheFileAreNotEchoedRaw() throws Exception {
        badUsage(workload("{\"tasks\": [{\"name\": \"a\\u001b[2Jb\", \"phases\": [{\"run_ns\": 1}]}]}"), "\\x1b[2J");
    }

    @Test
    void aBadNameOrTimeoutSaysWhichFieldAndWhy() throws Exception {
        String jar = HostileJar.jar().toString();
        System.setProperty("hostile.timeout_ms", "40000");
        CliRunner.Result r = CliRunner.run("run", "--scheduler", HostileJar.CLASS, "--classpath", jar, "--duration",
                "100ms");
        assertEquals(Main.EXIT_EJECTED, r.code(), r.describe());
        assertTrue(r.err().contains("E2BIG") && r.err().contains("ops.timeout_ms 40000 is too big"), r.describe());
        System.clearProperty("hostile.timeout_ms");
        HostileJar.misbehave("name", "throw");
        r = CliRunner.run("run", "--scheduler", HostileJar.CLASS, "--classpath", jar, "--duration", "100ms");
        assertEquals(Main.EXIT_EJECTED, r.code(), r.describe());
        assertTrue(r.err().contains("cannot read ops.name") && r.err().contains("Hostile.java:"), r.describe());
    }

    @Test
    void aFailingInitShowsTheSchedulersLine() throws Exception {
        HostileJar.misbehave("init", "throw");
        CliRunner.Result r = CliRunner.run("run", "--scheduler", HostileJar.CLASS, "--classpath",
                HostileJar.jar().toString(), "--duration", "100ms");
        assertEquals(Main.EXIT_EJECTED, r.code(), r.describe());
        assertTrue(r.err().contains("ops.init() threw") && r.err().contains("Hostile.java:"), r.describe());
    }

    @Test
    void helpNamesWhatCanBeGiven() {
        CliRunner.Result r = CliRunner.run("help", "run");
        assertEquals(0, r.code(), r.describe());
        String help = r.out().replaceAll("\\s+", " ");
        assertTrue(help.contains("class:NAME"), help);
        assertTrue(help.contains("file:PATH"), help);
        assertTrue(help.contains("ns, us, ms, s, m, h"), help);
        assertFalse(help.contains("simple or qmap"), help);
    }
}
