// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness;

import java.io.IOException;
import java.io.Writer;
import java.math.BigDecimal;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Collection;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A tiny JSON writer for the run summary (no dependency): maps with string keys become objects,
 * collections and {@code long[]} become arrays, numbers and booleans are written as such, and
 * everything else as a string. Non-finite doubles become {@code null}, as JSON has no NaN.
 *
 * <p>Stateless; any thread.
 */
public final class Json {
    private Json() {
    }

    /** {@code value} as pretty-printed JSON (two-space indent), ending in a newline. */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder(4096);
        write(sb, value, 0);
        sb.append('\n');
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v, int indent) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof String) {
            quote(sb, (String) v);
        } else if (v instanceof Boolean) {
            sb.append(v.toString());
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (Double.isFinite(d)) {
                // plain notation (no exponent): what every trace viewer's JSON reader accepts
                sb.append(d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d)
                        : BigDecimal.valueOf(d).toPlainString());
            } else {
                sb.append("null");
            }
        } else if (v instanceof Number) {
            sb.append(v.toString());
        } else if (v instanceof Map) {
            writeObject(sb, (Map<?, ?>) v, indent);
        } else if (v instanceof Collection) {
            writeArray(sb, ((Collection<?>) v).iterator(), ((Collection<?>) v).isEmpty(), indent);
        } else if (v instanceof long[]) {
            long[] a = (long[]) v;
            sb.append('[');
            for (int i = 0; i < a.length; i++) {
                sb.append(i == 0 ? "" : ", ").append(a[i]);
            }
            sb.append(']');
        } else {
            quote(sb, v.toString());
        }
    }

    private static void writeObject(StringBuilder sb, Map<?, ?> m, int indent) {
        if (m.isEmpty()) {
            sb.append("{}");
            return;
        }
        sb.append("{\n");
        Iterator<? extends Map.Entry<?, ?>> it = m.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<?, ?> e = it.next();
            pad(sb, indent + 1);
            quote(sb, String.valueOf(e.getKey()));
            sb.append(": ");
            write(sb, e.getValue(), indent + 1);
            sb.append(it.hasNext() ? ",\n" : "\n");
        }
        pad(sb, indent);
        sb.append('}');
    }

    private static void writeArray(StringBuilder sb, Iterator<?> it, boolean empty, int indent) {
        if (empty) {
            sb.append("[]");
            return;
        }
        sb.append("[\n");
        while (it.hasNext()) {
            pad(sb, indent + 1);
            write(sb, it.next(), indent + 1);
            sb.append(it.hasNext() ? ",\n" : "\n");
        }
        pad(sb, indent);
        sb.append(']');
    }

    private static void pad(StringBuilder sb, int indent) {
        for (int i = 0; i < indent; i++) {
            sb.append("  ");
        }
    }

    /**
     * Appends {@code s} as a JSON string: quotes, backslashes and control characters escaped;
     * U+2028/U+2029 and unpaired surrogates escaped too, so the output is valid UTF-8 and valid
     * JavaScript.
     */
    public static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"':
                    sb.append("\\\"");
                    break;
                case '\\':
                    sb.append("\\\\");
                    break;
                case '\n':
                    sb.append("\\n");
                    break;
                case '\r':
                    sb.append("\\r");
                    break;
                case '\t':
                    sb.append("\\t");
                    break;
                case '\b':
                    sb.append("\\b");
                    break;
                case '\f':
                    sb.append("\\f");
                    break;
                default:
                    if (c < 0x20 || c == '\u2028' || c == '\u2029' || c == 0x7f) {
                        unicodeEscape(sb, c);
                    } else if (Character.isHighSurrogate(c)) {
                        if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                            sb.append(c).append(s.charAt(++i));
                        } else {
                            unicodeEscape(sb, c);
                        }
                    } else if (Character.isLowSurrogate(c)) {
                        unicodeEscape(sb, c);
                    } else {
                        sb.append(c);
                    }
                    break;
            }
        }
        sb.append('"');
    }

    private static void unicodeEscape(StringBuilder sb, char c) {
        sb.append(String.format("\\u%04x", (int) c));
    }

    /** The output name that means standard output. */
    public static final String STDOUT = "-";

    /** The most symbolic links followed to find an output's real target (the kernel's MAXSYMLINKS). */
    private static final int MAX_LINKS = 40;

    /** Temporary files being written now; a shutdown hook removes what an interrupted write left. */
    private static final Set<Path> STAGING = ConcurrentHashMap.newKeySet();

    /** Whether {@code path} names standard output ({@code -}). */
    public static boolean isStdout(Path path) {
        return path != null && path.toString().equals(STDOUT);
    }

    /**
     * Where writing {@code path} really goes: symbolic links followed (a dangling one to the path
     * it names), so that the atomic rename replaces the link's target and never the link itself.
     */
    static Path target(Path path) throws IOException {
        Path p = path.toAbsolutePath().normalize();
        for (int i = 0; Files.isSymbolicLink(p); i++) {
            if (i >= MAX_LINKS) {
                throw new IOException("too many levels of symbolic links");
            }
            Path to = Files.readSymbolicLink(p);
            p = (p.getParent() == null ? to : p.getParent().resolve(to)).toAbsolutePath().normalize();
        }
        return p;
    }

    /**
     * Whether {@code target} exists and is not a regular file: a character device, a FIFO, a
     * socket. Such a file is written through, in place; only a regular file is replaced by rename.
     */
    static boolean writeThrough(Path target) {
        return Files.exists(target) && !Files.isRegularFile(target) && !Files.isDirectory(target);
    }

    /**
     * Checks, before a run, that {@code path} can be written the way {@link #writeAllAtomically}
     * will write it: a regular file (or a new one) needs a directory that accepts a new file; a
     * device or FIFO must be writable; a directory is refused; {@code -} is standard output.
     *
     * @throws IOException with a one-line reason when it cannot
     */
    public static void checkWritable(Path path) throws IOException {
        if (isStdout(path)) {
            return;
        }
        Path abs = target(path);
        if (Files.isDirectory(abs)) {
            throw new IOException("is a directory");
        }
        if (writeThrough(abs)) {
            if (!Files.isWritable(abs)) {
                throw new IOException("is not writable");
            }
            return;
        }
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new IOException("directory " + dir + " does not exist");
        }
        if (Files.exists(abs) && !Files.isWritable(abs)) {
            throw new IOException("file is not writable");
        }
        Path probe;
        try {
            probe = Files.createTempFile(dir, "." + abs.getFileName(), ".probe");
        } catch (IOException | SecurityException e) {
            throw new IOException("cannot create a file in " + dir);
        }
        Files.deleteIfExists(probe);
    }

    /** Writes {@code content} to {@code path} as {@link #writeAllAtomically} does. */
    public static void writeAtomically(Path path, String content) throws IOException {
        Map<Path, String> one = new java.util.LinkedHashMap<>();
        one.put(path, content);
        writeAllAtomically(one);
    }

    /**
     * Writes several files as one: every regular file's content goes to a temporary file next to
     * its target first, and only when all of them are written are they renamed over their targets,
     * so a failure (a full disk, a directory removed meanwhile) leaves none of the targets changed
     * rather than some; the temporary files are removed. A symbolic link is followed (its target
     * is replaced, the link stays); a device or FIFO is written through in place, after the
     * renames; {@code -} is not handled here (the caller prints it). {@code files} maps each
     * output to its content, in writing order.
     */
    public static void writeAllAtomically(Map<Path, String> files) throws IOException {
        Map<Path, Path> staged = new java.util.LinkedHashMap<>();
        Map<Path, String> through = new java.util.LinkedHashMap<>();
        boolean done = false;
        try {
            for (Map.Entry<Path, String> e : files.entrySet()) {
                Path abs = target(e.getKey());
                if (Files.isDirectory(abs)) {
                    throw new IOException(e.getKey() + ": is a directory");
                }
                if (writeThrough(abs)) {
                    through.put(abs, e.getValue());
                    continue;
                }
                Path tmp = Files.createTempFile(abs.getParent(), "." + abs.getFileName(), ".tmp");
                STAGING.add(tmp);
                staged.put(abs, tmp);
                setPermissions(tmp, abs);
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING);
                        Writer w = Channels.newWriter(ch, StandardCharsets.UTF_8)) {
                    w.write(e.getValue());
                    w.flush();
                    ch.force(true);
                }
            }
            for (Map.Entry<Path, Path> e : staged.entrySet()) {
                try {
                    Files.move(e.getValue(), e.getKey(), StandardCopyOption.ATOMIC_MOVE,
                            StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException ex) {
                    Files.move(e.getValue(), e.getKey(), StandardCopyOption.REPLACE_EXISTING);
                }
                STAGING.remove(e.getValue());
            }
            for (Map.Entry<Path, String> e : through.entrySet()) {
                try (Writer w = Files.newBufferedWriter(e.getKey(), StandardCharsets.UTF_8, StandardOpenOption.WRITE)) {
                    w.write(e.getValue());
                }
            }
            done = true;
        } finally {
            if (!done) {
                for (Path tmp : staged.values()) {
                    Files.deleteIfExists(tmp);
                    STAGING.remove(tmp);
                }
            }
        }
    }

    /** Removes the temporary files of writes still in progress (the process is being cut short). */
    public static void removeStaging() {
        for (Path tmp : STAGING) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException | RuntimeException e) {
                // best effort: the process is exiting
            }
        }
    }

    /** A temporary file is created 0600; give it the replaced file's mode, or rw-r--r--. */
    private static void setPermissions(Path tmp, Path target) {
        try {
            Set<PosixFilePermission> perms = Files.exists(target)
                    ? Files.getPosixFilePermissions(target)
                    : PosixFilePermissions.fromString("rw-r--r--");
            Files.setPosixFilePermissions(tmp, perms);
        } catch (IOException | UnsupportedOperationException e) {
            // not a POSIX file system, or not ours to change: keep the default mode
        }
    }
}
