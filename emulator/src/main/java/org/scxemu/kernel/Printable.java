// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

/**
 * Text from outside (a workload file, a scheduler's name, a command-line argument) made safe to
 * print on a terminal: the C0 controls, DEL and the C1 controls (which carry escape sequences) are
 * written as {@code \xNN}. Stateless; any thread.
 */
public final class Printable {
    private Printable() {
    }

    /** {@code s} with its control characters escaped, cut after {@code max} characters ("..." then). */
    public static String escape(String s, int max) {
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            if (i >= max) {
                return (sb == null ? s.substring(0, i) : sb.toString()) + "...";
            }
            char c = s.charAt(i);
            boolean ctl = c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0);
            if (ctl && sb == null) {
                sb = new StringBuilder(s.length() + 16).append(s, 0, i);
            }
            if (sb != null) {
                if (ctl) {
                    sb.append(String.format("\\x%02x", (int) c));
                } else {
                    sb.append(c);
                }
            }
        }
        return sb == null ? s : sb.toString();
    }
}
