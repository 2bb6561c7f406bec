// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.scx;

import org.scxemu.kernel.Timer;

/**
 * A BPF timer ({@code struct bpf_timer} in a map value, with bpf_timer_init() and
 * bpf_timer_set_callback() done at construction). Start it with {@link Scx#bpf_timer_start}.
 * The callback runs on the CPU the timer was started on, with no rq lock held; it may call the
 * "any" kfuncs (scx_bpf_kick_cpu(), scx_bpf_dsq_nr_queued(), ...) and re-arm the timer.
 */
public final class BpfTimer {
    final Timer timer;

    public BpfTimer(String name, Runnable callback) {
        this.timer = Timer.of(name, callback);
    }
}
