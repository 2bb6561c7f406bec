// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.workload;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Property-based fuzzing of the workload-file parser: valid files with some of their characters
 * replaced, inserted, deleted or repeated (deep nesting, huge numbers, control characters, broken
 * UTF-8). Whatever comes, {@link WorkloadFile#load} returns a workload or throws
 * {@link WorkloadFile.BadWorkloadFile} with a one-line message free of control characters, and
 * nothing else, quickly.
 */
class WorkloadFileFuzzTest {
    private static Path dir;
    private static final String[] SEEDS = {
        "{\"tasks\": [{\"name\": \"worker\", \"count\": 4, \"policy\": \"normal\", \"nice\": 0,"
            + " \"phases\": [{\"run_ns\": 2000000}, {\"sleep_ns\": 1000000}]},"
            + " {\"name\": \"rt\", \"policy\": \"fifo\", \"cpus\": [1], \"loop\": 0,"
            + " \"phases\": [{\"sleep_ns\": 5000000}, {\"run_ns\": 3000000}]}]}",
        "{\"name\": \"n\", \"description\": \"d\", \"tasks\": [{\"name\": \"s\", \"policy\": \"stop\", \"cpus\": [0],"
            + " \"phases\": [{\"run_ns\": 1}]}]}",
    };

    @BeforeContainer
    static void makeDir() throws IOException {
        dir = Files.createTempDirectory("scx-wl-fuzz");
    }

    @AfterContainer
    static void removeDir() throws IOException {
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Provide
    Arbitrary<byte[]> files() {
        Arbitrary<String> seed = Arbitraries.of(SEEDS);
        Arbitrary<String> piece = Arbitraries.oneOf(
                Arbitraries.of("[", "]", "{", "}", "\"", ",", ":", "\\", "\\u0000", "\u001b[2J", "\u0007", "-",
                        "9223372036854775807", "-9223372036854775808", "1e400", "0.5", "null", "true", "\"run_ns\"",
                        "\"sleep_ns\"", "\"count\"", "4097", "\"cpus\"", "[99]", "\n", "\ud800", "\u2028", "",
                        "[".repeat(100), "{\"a\":".repeat(70)),
                Arbitraries.strings().ofMaxLength(4));
        Arbitrary<int[]> edits = Arbitraries.integers().between(0, 10_000).array(int[].class).ofMinSize(1)
                .ofMaxSize(6);
        Arbitrary<java.util.List<String>> pieces = piece.list().ofMinSize(6).ofMaxSize(6);
        return Combinators.combine(seed, edits, pieces, Arbitraries.integers().between(0, 3)).as((s, e, p, mode) -> {
            StringBuilder sb = new StringBuilder(s);
            for (int i = 0; i < e.length; i++) {
                int at = e[i] % (sb.length() + 1);
                String what = p.get(i % p.size());
                switch ((mode + i) % 3) {
                    case 0:
                        sb.insert(at, what);
                        break;
                    case 1:
                        sb.replace(at, Math.min(sb.length(), at + 1 + e[i] % 5), what);
                        break;
                    default:
                        sb.delete(at, Math.min(sb.length(), at + 1 + e[i] % 3));
                        break;
                }
            }
            byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
            if (mode == 3 && b.length > 2) {
                b[e[0] % b.length] = (byte) 0xC3; // a broken UTF-8 sequence somewhere
            }
            return b;
        });
    }

    @Property(tries = 1500, seed = "20261204")
    void anyFileIsAWorkloadOrOneCleanLine(@ForAll("files") byte[] content) throws IOException {
        Path f = dir.resolve("w.json");
        Files.write(f, content);
        long t0 = System.nanoTime();
        try {
            assertNotNull(WorkloadFile.load("file:w.json", f, 4));
        } catch (WorkloadFile.BadWorkloadFile e) {
            String m = e.getMessage();
            assertFalse(m.isEmpty());
            for (char c : m.toCharArray()) {
                assertTrue(c >= 0x20 && c != 0x7f && (c < 0x80 || c >= 0xa0), "no control character in: " + m);
            }
        }
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "parsed quickly");
    }
}
