// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import java.math.BigDecimal;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * Parses durations as the CLI takes them: a number and a unit, {@code 500ms}, {@code 5s},
 * {@code 1m}, {@code 1.5s}, {@code 250us}, {@code 100ns}; at most 24 hours. Returns ns.
 */
final class Durations implements CommandLine.ITypeConverter<Long> {
    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|ms|s|m|h)");
    static final long MAX_NS = 24L * 3600 * 1_000_000_000L;

    @Override
    public Long convert(String value) {
        return parse(value);
    }

    /** ns, or a {@link CommandLine.TypeConversionException} saying what is wrong. */
    static long parse(String value) {
        Matcher m = DURATION.matcher(value == null ? "" : value.trim());
        if (!m.matches()) {
            throw new CommandLine.TypeConversionException("'" + value
                    + "' is not a duration (a number and a unit: ns, us, ms, s, m or h; e.g. 500ms, 5s, 1m)");
        }
        long unit;
        switch (m.group(2)) {
            case "ns":
                unit = 1L;
                break;
            case "us":
                unit = 1_000L;
                break;
            case "ms":
                unit = 1_000_000L;
                break;
            case "s":
                unit = 1_000_000_000L;
                break;
            case "m":
                unit = 60_000_000_000L;
                break;
            default:
                unit = 3_600_000_000_000L;
                break;
        }
        BigDecimal ns = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit));
        if (ns.compareTo(BigDecimal.ONE) < 0 || ns.compareTo(BigDecimal.valueOf(MAX_NS)) > 0) {
            throw new CommandLine.TypeConversionException("'" + value
                    + "' is out of range (at least 1ns, at most 24h)");
        }
        return ns.longValue();
    }
}
