// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

/**
 * A BPF object that cannot be loaded: malformed ELF or BTF, no sched_ext_ops table, an unknown
 * relocation, helper or kfunc. The message is one line, ready to follow {@code "scx-emu: "}.
 */
public final class BpfLoadException extends Exception {
    private static final long serialVersionUID = 1L;

    public BpfLoadException(String msg) {
        super(msg);
    }
}
