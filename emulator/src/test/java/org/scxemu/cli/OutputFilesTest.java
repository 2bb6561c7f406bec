// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.scxemu.harness.TinyJson;

/**
 * Defect classes 1, 7 and 8: --json and --trace never replace what is not a regular file. A
 * symlink's target is replaced and the link kept; a FIFO and a device are written through; a
 * directory is refused before anything runs; {@code -} is standard output (the human-readable
 * output then goes to standard error); a device that is full gives status 74 after a clean run
 * (never 2, which says nothing ran); the pair scheduler on an odd CPU count is bad usage.
 */
class OutputFilesTest {
    @TempDir
    Path dir;

    private static String[] run(String... more) {
        return Stream.concat(Stream.of("run", "--scheduler", "simple", "--cpus", "2", "--duration", "300ms"),
                Stream.of(more)).toArray(String[]::new);
    }

    private void noTemporaries() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(f -> f.getFileName().toString().startsWith(".")), "no hidden temporary left");
        }
    }

    @Test
    void aSymlinksTargetIsReplacedAndTheLinkKept() throws Exception {
        Path target = dir.resolve("target.json");
        Path link = dir.resolve("link.json");
        Files.createSymbolicLink(link, target.getFileName());
        CliRunner.Result r = CliRunner.run(run("--json", link.toString()));
        assertEquals(0, r.code(), r.describe());
        assertTrue(Files.isSymbolicLink(link), "still a link");
        assertEquals("simple", TinyJson.at(TinyJson.parse(Files.readString(target)), "scheduler"));
        noTemporaries();
    }

    @Test
    void aFifoIsWrittenThroughNotReplaced() throws Exception {
        Path fifo = dir.resolve("pipe");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assumeTrue(mk.waitFor(10, TimeUnit.SECONDS) && mk.exitValue() == 0, "mkfifo available");
        CompletableFuture<String> read = CompletableFuture.supplyAsync(() -> {
            try (InputStream in = Files.newInputStream(fifo)) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "read failed: " + e;
            }
        });
        CliRunner.Result r = CliRunner.run(run("--json", fifo.toString()));
        assertEquals(0, r.code(), r.describe());
        assertEquals("simple", TinyJson.at(TinyJson.parse(read.get(20, TimeUnit.SECONDS)), "scheduler"));
        assertFalse(Files.isRegularFile(fifo, LinkOption.NOFOLLOW_LINKS), "still a FIFO");
        noTemporaries();
    }

    @Test
    void aCharacterDeviceIsWrittenThrough() {
        Path devNull = Path.of("/dev/null");
        assumeTrue(Files.isWritable(devNull));
        CliRunner.Result r = CliRunner.run(run("--json", "/dev/null", "--trace", "/dev/null"));
        assertEquals(Main.EXIT_USAGE, r.code(), "the same file twice is refused: " + r.describe());
        r = CliRunner.run(run("--json", "/dev/null"));
        assertEquals(0, r.code(), r.describe());
        assertFalse(Files.isRegularFile(devNull), "/dev/null is still a device");
    }

    @Test
    void aFullDeviceAfterACleanRunIsExit74NotUsage() {
        Path full = Path.of("/dev/full");
        assumeTrue(Files.exists(full) && Files.isWritable(full));
        CliRunner.Result r = CliRunner.run(run("--json", "/dev/full"));
        assertEquals(Main.EXIT_IO, r.code(), r.describe());
        assertTrue(r.out().contains("summary:"), "the run's summary is kept: " + r.describe());
        assertEquals(1, r.errLines().size(), r.describe());
        assertTrue(r.err().startsWith("scx-emu: cannot write /dev/full"), r.describe());
    }

    @Test
    void aDirectoryIsRefusedBeforeAnythingRuns() {
        CliRunner.runBadUsage("--json " + dir + ": cannot write: is a directory", run("--json", dir.toString()));
        CliRunner.runBadUsage("--trace " + dir + ": cannot write: is a directory", run("--trace", dir.toString()));
    }

    @Test
    void dashIsStandardOutputAndOnlyJsonGoesThere() throws IOException {
        CliRunner.Result r = CliRunner.run(run("--json", "-"));
        assertEquals(0, r.code(), r.describe());
        assertEquals("simple", TinyJson.at(TinyJson.parse(r.out()), "scheduler"), "stdout is the JSON alone");
        assertTrue(r.err().contains("summary:"), "the summary went to stderr: " + r.describe());
        assertFalse(Files.exists(Path.of("-")), "no file named -");
        noTemporaries();
    }

    @Test
    void pairOnAnOddOrSingleCpuIsBadUsage() {
        CliRunner.runBadUsage("--cpus 3: the pair scheduler needs an even number of CPUs", "run", "--scheduler",
                "pair", "--cpus", "3");
        CliRunner.runBadUsage("--cpus 1: the pair scheduler needs an even number of CPUs", "run", "--scheduler",
                "pair", "--cpus", "1");
    }
}
