/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * queue: pids wait in a BPF QUEUE map; dispatch pops them, looks the task up by pid and sends it
 * to the local DSQ. When a higher class takes a CPU, cpu_release hands the CPU's local DSQ back
 * through scx_bpf_reenqueue_local() (the re-enqueued tasks arrive with SCX_ENQ_REENQ and go to the
 * global DSQ so another CPU picks them). Also exercises task storage, a hash map, a spin lock in
 * a map value, bpf_iter_num and the bstr error path (a pid that the queue map loses).
 */
#include "include/scx_emu.bpf.h"

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 4096);
	__type(value, u32);
} fifo SEC(".maps");

struct task_ctx {
	u64 enq_count;
	u32 last_cpu;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ctx);
} task_ctxs SEC(".maps");

struct lock_val {
	struct bpf_spin_lock lock;
	u64 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct lock_val);
} locked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, u32);
	__type(value, u64);
} per_cpu_disp SEC(".maps");

u64 nr_enqueued, nr_dispatched, nr_reenqueued, nr_lost, nr_reenq_calls;
struct scx_emu_exit uei SEC(".data");

SCX_OP(q_enqueue)
{
	struct task_struct *p = (void *)ctx[0];
	u64 enq_flags = ctx[1];
	struct task_ctx *tctx;
	struct lock_val *lv;
	u32 zero = 0;
	u32 pid = p->pid;

	tctx = bpf_task_storage_get(&task_ctxs, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!tctx) {
		scx_bpf_error("task_ctx lookup failed for pid %d", p->pid);
		return 0;
	}
	tctx->enq_count++;

	lv = bpf_map_lookup_elem(&locked, &zero);
	if (lv) {
		bpf_spin_lock(&lv->lock);
		lv->count++;
		bpf_spin_unlock(&lv->lock);
	}

	if (enq_flags & SCX_ENQ_REENQ) {
		__sync_fetch_and_add(&nr_reenqueued, 1);
		scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enq_flags);
		return 0;
	}
	if (bpf_map_push_elem(&fifo, &pid, 0)) {
		__sync_fetch_and_add(&nr_lost, 1);
		scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enq_flags);
		return 0;
	}
	__sync_fetch_and_add(&nr_enqueued, 1);
	return 0;
}

SCX_OP(q_dispatch)
{
	s32 cpu = ctx[0];
	struct bpf_iter_num it;
	int *i;

	if (scx_bpf_consume(SCX_DSQ_GLOBAL))
		return 0;

	bpf_iter_num_new(&it, 0, 8);
	while ((i = bpf_iter_num_next(&it))) {
		struct task_struct *p;
		struct task_ctx *tctx;
		u64 one = 1, *cnt;
		u32 key = cpu;
		u32 pid;

		if (bpf_map_pop_elem(&fifo, &pid))
			break;
		p = bpf_task_from_pid(pid);
		if (!p)
			continue;
		tctx = bpf_task_storage_get(&task_ctxs, p, 0, 0);
		if (tctx)
			tctx->last_cpu = cpu;
		/* a task whose affinity excludes this CPU goes to the global DSQ for another CPU */
		if (bpf_cpumask_test_cpu(cpu, p->cpus_ptr))
			scx_bpf_dispatch(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, 0);
		else
			scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, 0);
		bpf_task_release(p);
		__sync_fetch_and_add(&nr_dispatched, 1);
		cnt = bpf_map_lookup_elem(&per_cpu_disp, &key);
		if (cnt)
			__sync_fetch_and_add(cnt, 1);
		else
			bpf_map_update_elem(&per_cpu_disp, &key, &one, BPF_NOEXIST);
		if (!scx_bpf_dispatch_nr_slots())
			break;
	}
	bpf_iter_num_destroy(&it);
	return 0;
}

SCX_OP(q_cpu_release)
{
	u32 cnt = scx_bpf_reenqueue_local();

	__sync_fetch_and_add(&nr_reenq_calls, 1);
	(void)cnt;
	return 0;
}

SCX_OP(q_exit)
{
	struct scx_exit_info *ei = (void *)ctx[0];

	SCX_EMU_EXIT_RECORD(uei, ei);
	return 0;
}

SCX_OPS_TABLE(queue_ops) = {
	.enqueue = (void *)q_enqueue,
	.dispatch = (void *)q_dispatch,
	.cpu_release = (void *)q_cpu_release,
	.exit = (void *)q_exit,
	.name = "queue",
};
