// SPDX-License-Identifier: GPL-2.0-only
package com.example;

import static org.scxemu.scx.Scx.*;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.scxemu.kernel.Task;
import org.scxemu.scx.SchedExtOps;

/** A global FIFO: every task goes to one shared DSQ, which every CPU consumes. */
public class MySched implements SchedExtOps {
    static final long SHARED_DSQ = 0;

    private final LongAdder enqueued = new LongAdder();
    private final LongAdder consumed = new LongAdder();

    @Override
    public String name() {
        return "my_fifo";
    }

    @Override
    public int init() {
        return scx_bpf_create_dsq(SHARED_DSQ, -1);
    }

    @Override
    public void enqueue(Task p, long enqFlags) {
        enqueued.increment();
        scx_bpf_dispatch(p, SHARED_DSQ, SCX_SLICE_DFL, enqFlags);
    }

    @Override
    public void dispatch(int cpu, Task prev) {
        if (scx_bpf_consume(SHARED_DSQ)) {
            consumed.increment();
        }
    }

    @Override
    public Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("nr_enqueued", enqueued.sum());
        m.put("nr_consumed", consumed.sum());
        return m;
    }

    @Override
    public String statsLine() {
        return "my_fifo: enq=" + enqueued.sum() + " consumed=" + consumed.sum();
    }
}
