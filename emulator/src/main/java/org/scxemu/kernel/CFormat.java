// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import java.util.IllegalFormatException;

/**
 * printf-style formatting with the kernel's conversions: length modifiers ({@code l}, {@code ll},
 * {@code h}, {@code z}) are accepted and ignored, {@code %u} prints unsigned, {@code %i} is
 * {@code %d}, {@code %p} prints hex. Used for scx_bpf_error()/scx_bpf_exit() messages and the
 * kernel's own error texts, which are kept exactly.
 */
public final class CFormat {
    private CFormat() {
    }

    public static String format(String fmt, Object... args) {
        StringBuilder out = new StringBuilder();
        int ai = 0;
        int n = fmt.length();
        for (int i = 0; i < n; i++) {
            char c = fmt.charAt(i);
            if (c != '%') {
                out.append(c);
                continue;
            }
            if (i + 1 < n && fmt.charAt(i + 1) == '%') {
                out.append('%');
                i++;
                continue;
            }
            int j = i + 1;
            StringBuilder spec = new StringBuilder("%");
            while (j < n && "-+ #0".indexOf(fmt.charAt(j)) >= 0) {
                spec.append(fmt.charAt(j++));
            }
            while (j < n && (Character.isDigit(fmt.charAt(j)) || fmt.charAt(j) == '.')) {
                spec.append(fmt.charAt(j++));
            }
            while (j < n && "lhzjt".indexOf(fmt.charAt(j)) >= 0) {
                j++;
            }
            if (j >= n) {
                out.append(fmt, i, n);
                break;
            }
            char conv = fmt.charAt(j);
            Object arg = ai < args.length ? args[ai++] : null;
            try {
                switch (conv) {
                    case 'u':
                        out.append(pad(spec.toString(), unsigned(arg)));
                        break;
                    case 'i':
                    case 'd':
                        out.append(String.format(spec + "d", toLong(arg)));
                        break;
                    case 'x':
                    case 'X':
                        out.append(String.format(spec.toString() + conv, toLong(arg)));
                        break;
                    case 'p':
                        out.append("0x").append(Long.toHexString(toLong(arg)));
                        break;
                    case 'c':
                        out.append(String.format(spec + "c", arg));
                        break;
                    default:
                        out.append(String.format(spec + "s", arg));
                        break;
                }
            } catch (IllegalFormatException | ClassCastException e) {
                out.append(arg);
            }
            i = j;
        }
        return out.toString();
    }

    /** Applies a %[-0][width] spec to an already formatted number. */
    private static String pad(String spec, String digits) {
        boolean left = spec.indexOf('-') >= 0;
        boolean zero = spec.indexOf('0') == 1 || spec.startsWith("%-0") || spec.startsWith("%0");
        String w = spec.replaceAll("[^0-9.]", "");
        if (w.startsWith("0")) {
            w = w.substring(1);
        }
        int dot = w.indexOf('.');
        if (dot >= 0) {
            w = w.substring(0, dot);
        }
        int width = w.isEmpty() ? 0 : Integer.parseInt(w);
        StringBuilder sb = new StringBuilder(digits);
        while (sb.length() < width) {
            if (left) {
                sb.append(' ');
            } else {
                sb.insert(0, zero ? '0' : ' ');
            }
        }
        return sb.toString();
    }

    private static long toLong(Object o) {
        if (o instanceof Number) {
            return ((Number) o).longValue();
        }
        if (o instanceof Boolean) {
            return ((Boolean) o) ? 1 : 0;
        }
        if (o instanceof Character) {
            return (Character) o;
        }
        throw new ClassCastException(String.valueOf(o));
    }

    private static String unsigned(Object o) {
        if (o instanceof Integer) {
            return Integer.toUnsignedString((Integer) o);
        }
        if (o instanceof Long) {
            return Long.toUnsignedString((Long) o);
        }
        return String.valueOf(toLong(o));
    }
}
