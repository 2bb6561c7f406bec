/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vtime: weighted fair queueing on one user DSQ ordered by virtual time. A task's vtime advances
 * by the slice it used scaled by 100/weight; a waking task is not let fall more than one slice
 * behind the queue's clock. Demonstrates scx_bpf_create_dsq(), dispatch_vtime(), consume() and
 * the running/stopping pair reading p->scx.slice, p->scx.weight and p->scx.dsq_vtime.
 */
#include "include/scx_emu.bpf.h"

char _license[] SEC("license") = "GPL";

#define VT_DSQ 7

const volatile u64 slice_ns = SCX_SLICE_DFL;

static u64 vtime_now;
u64 nr_dispatched, nr_consumed, nr_stopped;
struct scx_emu_exit uei SEC(".data");

static inline bool vtime_before(u64 a, u64 b)
{
	return (s64)(a - b) < 0;
}

SCX_OP(vt_enqueue)
{
	struct task_struct *p = (void *)ctx[0];
	u64 enq_flags = ctx[1];
	u64 vtime = p->scx.dsq_vtime;

	if (vtime_before(vtime, vtime_now - slice_ns))
		vtime = vtime_now - slice_ns;
	__sync_fetch_and_add(&nr_dispatched, 1);
	scx_bpf_dispatch_vtime(p, VT_DSQ, slice_ns, vtime, enq_flags);
	return 0;
}

SCX_OP(vt_dispatch)
{
	if (scx_bpf_consume(VT_DSQ))
		__sync_fetch_and_add(&nr_consumed, 1);
	return 0;
}

SCX_OP(vt_running)
{
	struct task_struct *p = (void *)ctx[0];

	if (vtime_before(vtime_now, p->scx.dsq_vtime))
		vtime_now = p->scx.dsq_vtime;
	return 0;
}

SCX_OP(vt_stopping)
{
	struct task_struct *p = (void *)ctx[0];

	__sync_fetch_and_add(&nr_stopped, 1);
	p->scx.dsq_vtime += (slice_ns - p->scx.slice) * 100 / p->scx.weight;
	return 0;
}

SCX_OP(vt_enable)
{
	struct task_struct *p = (void *)ctx[0];

	p->scx.dsq_vtime = vtime_now;
	return 0;
}

SCX_OP_SLEEPABLE(vt_init)
{
	return scx_bpf_create_dsq(VT_DSQ, -1);
}

SCX_OP(vt_exit)
{
	struct scx_exit_info *ei = (void *)ctx[0];

	SCX_EMU_EXIT_RECORD(uei, ei);
	return 0;
}

SCX_OPS_TABLE(vtime_ops) = {
	.enqueue = (void *)vt_enqueue,
	.dispatch = (void *)vt_dispatch,
	.running = (void *)vt_running,
	.stopping = (void *)vt_stopping,
	.enable = (void *)vt_enable,
	.init = (void *)vt_init,
	.exit = (void *)vt_exit,
	.timeout_ms = 5000,
	.name = "vtime",
};
