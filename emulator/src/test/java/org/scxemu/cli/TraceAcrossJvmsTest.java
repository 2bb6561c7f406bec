// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A controlled run's trace is the same byte for byte in two separate JVMs, as a user gets it
 * from two {@code ./scx-emu} invocations. The in-process tests ({@link ControlledRunTest},
 * {@link ControlledStressTest}) cannot see what changes from one JVM to the next: the iteration
 * order of {@code Map.of()} with two or more keys is salted per JVM, and it once decided the key
 * order of the slices' {@code "args": {"pid", "class"}} and the releases'
 * {@code "args": {"reason", "next"}}. Each JVM is a new draw of that salt, so the key-order
 * checks below also catch an unordered map on their own.
 */
class TraceAcrossJvmsTest {
    @TempDir
    Path dir;

    /** Runs the CLI in a fresh JVM (this test's classpath and JVM, the launcher's flags). */
    private int cli(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--add-opens");
        cmd.add("java.base/jdk.internal.misc=ALL-UNNAMED");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("out-" + System.nanoTime() + ".txt").toFile()).start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the CLI ends: " + cmd);
        return p.exitValue();
    }

    private String[] withTrace(String[] head, String name) {
        List<String> a = new ArrayList<>(List.of(head));
        a.add("--trace");
        a.add(dir.resolve(name).toString());
        return a.toArray(String[]::new);
    }

    private void assertKeyOrder(byte[] trace, boolean releases) {
        String t = new String(trace, StandardCharsets.UTF_8);
        assertTrue(t.contains("\"pid\": "), "slices in the trace");
        int objects = 0;
        for (int i = t.indexOf("\"args\": {"); i >= 0; i = t.indexOf("\"args\": {", i + 1)) {
            String first = t.substring(t.indexOf('"', i + 9), t.indexOf(':', i + 9));
            assertFalse(first.equals("\"class\"") || first.equals("\"next\""), "args keys in a fixed order: " + first);
            objects++;
        }
        assertTrue(objects > 0);
        if (releases) {
            assertTrue(t.contains("\"name\": \"cpu_release\""), "releases in the trace");
        }
    }

    @Test
    void runControlledTraceIsByteIdenticalAcrossJvms() throws Exception {
        String[] args = {"run", "--controlled", "--no-progress", "--scheduler", "qmap", "--cpus", "2", "--workload",
            "rt-preempt", "--duration", "100ms", "--strategy", "pct", "--seed", "11"};
        assertEquals(Main.EXIT_OK, cli(withTrace(args, "a.trace.json")));
        assertEquals(Main.EXIT_OK, cli(withTrace(args, "b.trace.json")));
        byte[] a = Files.readAllBytes(dir.resolve("a.trace.json"));
        byte[] b = Files.readAllBytes(dir.resolve("b.trace.json"));
        assertArrayEquals(a, b, "byte-identical trace from two JVMs");
        assertKeyOrder(a, true);
    }

    @Test
    void stressControlledTraceIsByteIdenticalAcrossJvms() throws Exception {
        String[] args = {"stress", "--controlled", "--no-progress", "--scheduler", "qmap", "--cpus", "4",
            "--workload", "mixed", "--chaos", "rt=4,dl=1,stop=1,delay=2", "--duration", "300ms", "--kernel", "6.12",
            "--seed", "2"};
        int ca = cli(withTrace(args, "a.trace.json"));
        int cb = cli(withTrace(args, "b.trace.json"));
        assertEquals(ca, cb, "the same ending");
        byte[] a = Files.readAllBytes(dir.resolve("a.trace.json"));
        byte[] b = Files.readAllBytes(dir.resolve("b.trace.json"));
        assertArrayEquals(a, b, "byte-identical trace from two JVMs");
        assertKeyOrder(a, true);
    }
}
