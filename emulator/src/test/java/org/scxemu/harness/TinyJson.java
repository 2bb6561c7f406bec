// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness;

import java.util.List;
import java.util.Map;

/**
 * Test helpers over the emulator's strict JSON parser ({@link JsonReader}): {@link #parse} for a
 * document that must be valid (an invalid one fails the test) and dotted-path accessors.
 */
public final class TinyJson {
    private TinyJson() {
    }

    /** Parses a whole document; invalid JSON is an {@link IllegalArgumentException}. */
    public static Object parse(String text) {
        try {
            return JsonReader.parse(text);
        } catch (JsonReader.BadJson e) {
            throw new IllegalArgumentException("invalid JSON: " + e.getMessage(), e);
        }
    }

    /** Follows a dotted path ({@code "latency_ns.wait.p99"}, {@code "per_cpu.0.cpu"}). */
    @SuppressWarnings("unchecked")
    public static Object at(Object root, String path) {
        Object cur = root;
        for (String part : path.split("\\.")) {
            if (cur instanceof Map) {
                Map<String, Object> m = (Map<String, Object>) cur;
                if (!m.containsKey(part)) {
                    throw new AssertionError("no field '" + part + "' in path " + path);
                }
                cur = m.get(part);
            } else if (cur instanceof List) {
                cur = ((List<Object>) cur).get(Integer.parseInt(part));
            } else {
                throw new AssertionError("cannot descend into " + cur + " at '" + part + "' of " + path);
            }
        }
        return cur;
    }

    public static long num(Object root, String path) {
        Object v = at(root, path);
        if (!(v instanceof Long)) {
            throw new AssertionError(path + " is not an integer: " + v);
        }
        return (Long) v;
    }
}
