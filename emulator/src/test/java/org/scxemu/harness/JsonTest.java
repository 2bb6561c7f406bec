// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JSON summary's writer: valid JSON for any string, and files that are never half-written. */
class JsonTest {
    @TempDir
    Path dir;

    @Test
    void everyStringRoundTrips() {
        StringBuilder all = new StringBuilder();
        for (char c = 0; c < 0x300; c++) {
            all.append(c);
        }
        String[] strings = {
            "", "plain", "quote \" backslash \\ slash /", "tab\tnl\ncr\rbs\bff\f", "nul\0bell\u0007del\u007f",
            "sep\u2028\u2029", "emoji \uD83D\uDE00", "lone high \uD800 end", "lone low \uDC00", "\uDBFF",
            "kernel: cpu-bound-4[5] failed to run for 0.753s", all.toString(),
        };
        for (String s : strings) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put(s, s);
            String json = Json.write(m);
            Object back = TinyJson.parse(json);
            assertEquals(m, back, "round trip of " + Arrays.toString(s.chars().limit(20).toArray()));
            for (int i = 0; i < json.length(); i++) {
                char c = json.charAt(i);
                assertTrue(c >= 0x20 || c == '\n', "raw control character in output");
                if (Character.isHighSurrogate(c)) {
                    assertTrue(i + 1 < json.length() && Character.isLowSurrogate(json.charAt(i + 1)), "unpaired");
                    i++;
                } else {
                    assertTrue(!Character.isLowSurrogate(c), "unpaired low surrogate written raw");
                }
            }
        }
    }

    @Test
    void writesNumbersBooleansNullsNestingAndArrays() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("long", Long.MIN_VALUE);
        m.put("int", 42);
        m.put("double", 0.25);
        m.put("whole double", 3.0);
        m.put("nan", Double.NaN);
        m.put("inf", Double.POSITIVE_INFINITY);
        m.put("t", true);
        m.put("null", null);
        m.put("empty map", Map.of());
        m.put("empty list", List.of());
        m.put("longs", new long[] {1, 2, 3});
        List<Object> list = new ArrayList<>();
        list.add(Map.of("a", 1L));
        list.add("x");
        m.put("list", list);
        Object back = TinyJson.parse(Json.write(m));
        assertEquals(Long.MIN_VALUE, TinyJson.at(back, "long"));
        assertEquals(42L, TinyJson.at(back, "int"));
        assertEquals(0.25, TinyJson.at(back, "double"));
        assertEquals(3L, TinyJson.at(back, "whole double"));
        assertEquals(null, TinyJson.at(back, "nan"));
        assertEquals(null, TinyJson.at(back, "inf"));
        assertEquals(Boolean.TRUE, TinyJson.at(back, "t"));
        assertEquals(Map.of(), TinyJson.at(back, "empty map"));
        assertEquals(List.of(), TinyJson.at(back, "empty list"));
        assertEquals(List.of(1L, 2L, 3L), TinyJson.at(back, "longs"));
        assertEquals(1L, TinyJson.at(back, "list.0.a"));
        assertEquals("x", TinyJson.at(back, "list.1"));
    }

    @Test
    void writeAtomicallyReplacesTheWholeFileAndLeavesNoTemporary() throws IOException {
        Path f = dir.resolve("summary.json");
        Json.writeAtomically(f, "{\"a\": 1}\n");
        assertEquals("{\"a\": 1}\n", Files.readString(f, StandardCharsets.UTF_8));
        String big = Json.write(Map.of("s", "x".repeat(1 << 20)));
        Json.writeAtomically(f, big);
        assertEquals(big, Files.readString(f, StandardCharsets.UTF_8));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(f), files.toList());
        }
    }

    @Test
    void writeAtomicallyFailsCleanlyOnADirectory() throws IOException {
        Path sub = Files.createDirectory(dir.resolve("sub"));
        Files.writeString(sub.resolve("keep"), "x");
        assertThrows(IOException.class, () -> Json.writeAtomically(sub, "{}"));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(sub), files.toList(), "no temporary file left behind");
        }
    }

    @Test
    void checkWritableSaysWhy() throws IOException {
        Json.checkWritable(dir.resolve("new.json"));
        IOException noDir = assertThrows(IOException.class, () -> Json.checkWritable(dir.resolve("a/b.json")));
        assertTrue(noDir.getMessage().contains("does not exist"));
        IOException isDir = assertThrows(IOException.class, () -> Json.checkWritable(dir));
        assertTrue(isDir.getMessage().contains("is a directory"));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(0, files.count(), "the check leaves nothing behind");
        }
    }

    /** --json and --trace are written together: a failure on one leaves neither written. */
    @Test
    void writeAllAtomicallyWritesAllOrNothing() throws IOException {
        Path a = dir.resolve("a.json");
        Path b = dir.resolve("b.json");
        Files.writeString(a, "old\n");
        Map<Path, String> ok = new LinkedHashMap<>();
        ok.put(a, "A\n");
        ok.put(b, "B\n");
        Json.writeAllAtomically(ok);
        assertEquals("A\n", Files.readString(a, StandardCharsets.UTF_8));
        assertEquals("B\n", Files.readString(b, StandardCharsets.UTF_8));
        Map<Path, String> bad = new LinkedHashMap<>();
        bad.put(a, "A2\n");
        bad.put(dir.resolve("gone/c.json"), "C\n");
        assertThrows(IOException.class, () -> Json.writeAllAtomically(bad));
        assertEquals("A\n", Files.readString(a, StandardCharsets.UTF_8), "the first target is unchanged");
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(2, files.count(), "no temporary file left behind");
        }
    }
}
