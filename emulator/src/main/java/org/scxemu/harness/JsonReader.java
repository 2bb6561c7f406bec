// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict little JSON reader (RFC 8259) for input files such as workload files, which keeps the
 * line of every value so that errors can name it: objects become {@link Obj} (a
 * {@code LinkedHashMap} that knows the line of each key), arrays {@link Arr} (an
 * {@code ArrayList} that knows the line of each element), integers {@code Long}, other numbers
 * {@code Double}. Anything that is not valid JSON (trailing commas, NaN, comments, unescaped
 * control characters, trailing garbage, duplicate keys) throws {@link BadJson} with the line and
 * column.
 *
 * <p>Not thread-safe while parsing; the result is an ordinary tree owned by the caller.
 */
public final class JsonReader {
    /** Invalid JSON, at {@link #line} (1-based). */
    public static final class BadJson extends Exception {
        private static final long serialVersionUID = 1L;
        public final int line;

        BadJson(int line, String msg) {
            super(msg);
            this.line = line;
        }
    }

    /** Unchecked while parsing, turned into {@link BadJson} by {@link #parse}. */
    private static final class Fail extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int line;

        Fail(int line, String msg) {
            super(msg, null, false, false);
            this.line = line;
        }
    }

    /** A JSON object: its line, and the line of each key. */
    public static final class Obj extends LinkedHashMap<String, Object> {
        private static final long serialVersionUID = 1L;
        public final int line;
        final Map<String, Integer> lines = new HashMap<>();

        Obj(int line) {
            this.line = line;
        }

        /** The line of {@code key}, or of the object when it has no such key. */
        public int lineOf(String key) {
            return lines.getOrDefault(key, line);
        }
    }

    /** A JSON array: its line, and the line of each element. */
    public static final class Arr extends ArrayList<Object> {
        private static final long serialVersionUID = 1L;
        public final int line;
        final List<Integer> lines = new ArrayList<>();

        Arr(int line) {
            this.line = line;
        }

        /** The line of element {@code index}. */
        public int lineOf(int index) {
            return index >= 0 && index < lines.size() ? lines.get(index) : line;
        }
    }

    private final String s;
    private int i;
    /** line() has counted the lines up to linePos: lineNo is the line there. */
    private int linePos;
    private int lineNo = 1;

    private JsonReader(String s) {
        this.s = s;
    }

    /** Parses {@code text}, a whole JSON document. */
    public static Object parse(String text) throws BadJson {
        JsonReader p = new JsonReader(text);
        try {
            p.ws();
            Object v = p.value();
            p.ws();
            if (p.i != text.length()) {
                throw p.fail("trailing characters after the JSON value");
            }
            return v;
        } catch (Fail f) {
            throw new BadJson(f.line, f.getMessage());
        }
    }

    /** The 1-based line of the current position. */
    private int line() {
        int end = Math.min(i, s.length());
        for (; linePos < end; linePos++) { // the position only moves forward
            if (s.charAt(linePos) == '\n') {
                lineNo++;
            }
        }
        return lineNo;
    }

    private Fail fail(String why) {
        int col = 1;
        for (int k = Math.min(i, s.length()) - 1; k >= 0 && s.charAt(k) != '\n'; k--) {
            col++;
        }
        return new Fail(line(), "column " + col + ": " + why);
    }

    private void ws() {
        while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\n' || s.charAt(i) == '\r'
                || s.charAt(i) == '\t')) {
            i++;
        }
    }

    /** The deepest nesting of objects and arrays accepted (deeper is refused, never a stack overflow). */
    public static final int DEPTH_MAX = 64;
    private int depth;

    private Object value() {
        if (i >= s.length()) {
            throw fail("unexpected end");
        }
        char c = s.charAt(i);
        switch (c) {
            case '{':
            case '[':
                if (++depth > DEPTH_MAX) {
                    throw fail("objects and lists nested deeper than " + DEPTH_MAX);
                }
                Object v = c == '{' ? object() : array();
                depth--;
                return v;
            case '"':
                return string();
            case 't':
                return literal("true", Boolean.TRUE);
            case 'f':
                return literal("false", Boolean.FALSE);
            case 'n':
                return literal("null", null);
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return number();
                }
                throw fail("unexpected '" + c + "'");
        }
    }

    private Object literal(String word, Object v) {
        if (!s.startsWith(word, i)) {
            throw fail("expected " + word);
        }
        i += word.length();
        return v;
    }

    private Obj object() {
        Obj m = new Obj(line());
        i++;
        ws();
        if (peek() == '}') {
            i++;
            return m;
        }
        for (;;) {
            ws();
            if (peek() != '"') {
                throw fail("expected a key");
            }
            String k = string();
            ws();
            expect(':');
            ws();
            if (m.containsKey(k)) {
                throw fail("duplicate key \"" + k + "\"");
            }
            m.lines.put(k, line());
            m.put(k, value());
            ws();
            if (peek() == ',') {
                i++;
                continue;
            }
            expect('}');
            return m;
        }
    }

    private Arr array() {
        Arr a = new Arr(line());
        i++;
        ws();
        if (peek() == ']') {
            i++;
            return a;
        }
        for (;;) {
            ws();
            a.lines.add(line());
            a.add(value());
            ws();
            if (peek() == ',') {
                i++;
                continue;
            }
            expect(']');
            return a;
        }
    }

    private String string() {
        expect('"');
        StringBuilder sb = new StringBuilder();
        for (;;) {
            if (i >= s.length()) {
                throw fail("unterminated string");
            }
            char c = s.charAt(i++);
            if (c == '"') {
                return sb.toString();
            }
            if (c < 0x20) {
                throw fail("unescaped control character");
            }
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            if (i >= s.length()) {
                throw fail("unterminated escape");
            }
            char e = s.charAt(i++);
            switch (e) {
                case '"':
                case '\\':
                case '/':
                    sb.append(e);
                    break;
                case 'b':
                    sb.append('\b');
                    break;
                case 'f':
                    sb.append('\f');
                    break;
                case 'n':
                    sb.append('\n');
                    break;
                case 'r':
                    sb.append('\r');
                    break;
                case 't':
                    sb.append('\t');
                    break;
                case 'u':
                    if (i + 4 > s.length()) {
                        throw fail("short \\u escape");
                    }
                    try {
                        sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                    } catch (NumberFormatException ex) {
                        throw fail("bad \\u escape");
                    }
                    i += 4;
                    break;
                default:
                    throw fail("bad escape \\" + e);
            }
        }
    }

    private Object number() {
        int start = i;
        if (peek() == '-') {
            i++;
        }
        if (peek() == '0') {
            i++;
        } else if (peek() >= '1' && peek() <= '9') {
            while (peek() >= '0' && peek() <= '9') {
                i++;
            }
        } else {
            throw fail("bad number");
        }
        boolean integral = true;
        if (peek() == '.') {
            integral = false;
            i++;
            digits();
        }
        if (peek() == 'e' || peek() == 'E') {
            integral = false;
            i++;
            if (peek() == '+' || peek() == '-') {
                i++;
            }
            digits();
        }
        String t = s.substring(start, i);
        try {
            return integral ? (Object) Long.parseLong(t) : (Object) Double.parseDouble(t);
        } catch (NumberFormatException e) {
            throw fail("number out of range: " + t);
        }
    }

    private void digits() {
        if (!(peek() >= '0' && peek() <= '9')) {
            throw fail("expected a digit");
        }
        while (peek() >= '0' && peek() <= '9') {
            i++;
        }
    }

    private char peek() {
        return i < s.length() ? s.charAt(i) : '\0';
    }

    private void expect(char c) {
        if (peek() != c) {
            throw fail("expected '" + c + "'");
        }
        i++;
    }
}
