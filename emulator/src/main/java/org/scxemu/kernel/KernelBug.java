// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

/**
 * BUG(): an impossible kernel state, with the reason. Never thrown for scheduler misbehaviour
 * (that is a scheduler exit); thrown only when the emulated core itself is inconsistent.
 */
public final class KernelBug extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public KernelBug(String reason) {
        super("kernel BUG: " + reason);
    }
}
