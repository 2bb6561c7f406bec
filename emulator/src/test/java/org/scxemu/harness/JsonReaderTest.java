// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The line-tracking JSON reader behind workload files. */
class JsonReaderTest {
    @Test
    void readsValuesAndKeepsTheirLines() throws JsonReader.BadJson {
        String text = "{\n  \"a\": 1,\n  \"b\": [\n    true,\n    \"x\\u0041\"\n  ],\n"
                + "  \"c\": {\"d\": -2.5e1, \"e\": null}\n}\n";
        JsonReader.Obj o = (JsonReader.Obj) JsonReader.parse(text);
        assertEquals(1L, o.get("a"));
        assertEquals(2, o.lineOf("a"));
        assertEquals(3, o.lineOf("b"));
        JsonReader.Arr b = (JsonReader.Arr) o.get("b");
        assertEquals(List.of(true, "xA"), b);
        assertEquals(4, b.lineOf(0));
        assertEquals(5, b.lineOf(1));
        JsonReader.Obj c = (JsonReader.Obj) o.get("c");
        assertEquals(-25.0, c.get("d"));
        assertTrue(c.containsKey("e") && c.get("e") == null);
        assertEquals(7, c.lineOf("e"));
        assertEquals(1, o.line);
    }

    @Test
    void rejectsWhatIsNotJsonWithTheLine() {
        String[][] bad = {
            {"{\"a\": 1,}", "1"}, {"{\n\"a\": 1\n\"b\": 2}", "3"}, {"[1, 2", "1"}, {"{\"a\": NaN}", "1"},
            {"{\"a\": 1, \"a\": 2}", "1"}, {"\n\n  x", "3"}, {"{} {}", "1"}, {"99999999999999999999", "1"},
            {"\"\\q\"", "1"}, {"// c\n{}", "1"}, {"", "1"},
        };
        for (String[] b : bad) {
            JsonReader.BadJson e = assertThrows(JsonReader.BadJson.class, () -> JsonReader.parse(b[0]), b[0]);
            assertEquals(Integer.parseInt(b[1]), e.line, b[0] + ": " + e.getMessage());
            assertTrue(e.getMessage().startsWith("column "), e.getMessage());
        }
    }
}
