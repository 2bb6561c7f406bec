// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

/**
 * Build-time configuration, the emulator's Kconfig. Each is a {@code static final} read once at
 * class initialisation, so the JIT removes disabled code entirely.
 */
public final class Config {
    private Config() {
    }

    /**
     * The seed's feature compiled in: cpu_acquire/cpu_release, cpu_released and the
     * scx_ops_cpu_preempt key. {@code -Dscx.config.cpu_preempt=false} compiles it out: the JMH
     * baseline the static key is measured against.
     */
    public static final boolean CPU_PREEMPT =
            Boolean.parseBoolean(System.getProperty("scx.config.cpu_preempt", "true"));

    /**
     * How the pick path tests for the feature: {@code key} (the seed's {@code scx_ops_cpu_preempt}
     * static key, the default) or {@code flag} (6.16's plain load and test of
     * {@code SCX_OPS_HAS_CPU_PREEMPT} in the ops flags). {@code -Dscx.config.cpu_preempt_check=flag}.
     */
    public static final boolean CPU_PREEMPT_FLAG_TEST =
            "flag".equals(System.getProperty("scx.config.cpu_preempt_check", "key"));
}
