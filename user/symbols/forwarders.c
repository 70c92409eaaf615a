// SPDX-License-Identifier: (MIT OR Apache-2.0)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "forwarders.h"
#include "table.h"

struct forwarder {
	const char *symbol;	/* the pool's copy */
	unsigned int family;
	/*
	 * A layer: its frame leads a block it made whatever family the
	 * record has (operator new[] jumping to operator new, whose frame
	 * stands first, counts new[]).
	 */
	bool layer;
};

struct forwarders {
	struct tab_pool names;
	struct forwarder *fw;
	size_t nr, cap;
	size_t probes_seen;	/* of the list update() was given */
	unsigned int families;	/* 1 << family, of every forwarder */
};

struct forwarders *forwarders__new(void)
{
	struct forwarders *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	if (tab_pool_init(&f->names, 0)) {
		free(f);
		return NULL;
	}
	return f;
}

void forwarders__free(struct forwarders *f)
{
	if (!f)
		return;
	tab_pool_fini(&f->names);
	free(f->fw);
	free(f);
}

static bool known(const struct forwarders *f, const char *sym,
		  unsigned int fam)
{
	size_t i;

	for (i = 0; i < f->nr; i++)
		if ((f->fw[i].family == fam || f->fw[i].layer) &&
		    !strcmp(f->fw[i].symbol, sym))
			return true;
	return false;
}

int forwarders__update(struct forwarders *f, const struct attach_probe *p,
		       size_t nr)
{
	const char *sym;
	size_t i;
	int err;

	/* Each object is probed once: its forwarders come once per name. */
	for (i = f->probes_seen; i < nr; i++) {
		bool layer = p[i].counted_at;

		if ((!layer && (!p[i].forwards_to || !p[i].forward_calls)) ||
		    p[i].family >= 8 * sizeof(f->families) ||
		    known(f, p[i].symbol, p[i].family))
			continue;
		err = tab_pool_intern(&f->names, p[i].symbol, &sym, NULL);
		if (!err)
			err = tab_grow((void **)&f->fw, &f->cap, f->nr + 1,
				       sizeof(*f->fw));
		if (err)
			return err;
		f->fw[f->nr].symbol = sym;
		f->fw[f->nr].family = p[i].family;
		f->fw[f->nr].layer = layer;
		f->nr++;
		f->families |= 1u << p[i].family;
	}
	f->probes_seen = nr;
	return 0;
}

/* The function addr lies in: the last of its frames, the one not inlined. */
static bool in_forwarder(const struct forwarders *f, unsigned int fam,
			 __u64 addr, frame_resolve_fn resolve, void *ctx)
{
	const struct frame *fr;
	const char *name;
	unsigned n;

	n = resolve(ctx, addr, &fr);
	if (!n)
		return false;
	name = fr[n - 1].mangled ? fr[n - 1].mangled : fr[n - 1].function;
	return name && known(f, name, fam);
}

unsigned forwarders__leading(const struct forwarders *f, unsigned int fam,
			     const __u64 *frames, unsigned n,
			     frame_resolve_fn resolve, void *ctx)
{
	unsigned i = 0;

	if (!resolve || fam >= 8 * sizeof(f->families) ||
	    !(f->families & 1u << fam))
		return 0;
	while (i + 1 < n && in_forwarder(f, fam, frames[i], resolve, ctx))
		i++;
	return i;
}
