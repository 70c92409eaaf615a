// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * The empty-probe floor: programs with the names and section types of the
 * real ones in bpf/memscope.bpf.c, doing nothing. Attached through the
 * tool's own attach module, they sit on exactly the tool's probe plan, so
 * what a run under them costs is the price of the probes alone (traps,
 * uretprobe hijack, program dispatch) that no BPF code can go below.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/*
 * floor -r: each allocation return reads 8 bytes of the user stack, the
 * least any stack capture must do, to price that one read in the same run.
 */
const volatile bool read_user = false;

SEC("uprobe")
int ms_alloc_enter(struct pt_regs *ctx)
{
	return 0;
}

SEC("uretprobe")
int ms_alloc_return(struct pt_regs *ctx)
{
	__u64 word;

	if (read_user)
		bpf_probe_read_user(&word, sizeof(word),
				    (void *)PT_REGS_SP(ctx));
	return 0;
}

SEC("uprobe")
int ms_free_enter(struct pt_regs *ctx)
{
	return 0;
}
