// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

/**
 * A run-time fault of a BPF program: what the kernel's verifier would have refused at load (a bad
 * pointer, an out-of-bounds access, a write to a read-only kernel field, a runaway loop). Thrown
 * inside the engine and caught at the op boundary, where it becomes the scheduler's
 * {@code SCX_EXIT_ERROR} naming the program, the instruction and the source line. Carries no
 * Java stack trace: the user's program, not the emulator, is at fault.
 */
final class BpfFault extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private BpfFault(String msg) {
        super(msg, null, false, false);
    }

    static BpfFault of(String msg) {
        return new BpfFault(msg);
    }
}
