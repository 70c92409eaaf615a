/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Template of the tiny shared objects the attach benchmark maps: built 100
 * times with a different DSO_ID, so each is a distinct file with its own
 * soname and symbols that an attacher has to open and scan.
 */
#include <stdlib.h>

#ifndef DSO_ID
#error "build with -DDSO_ID=n"
#endif

#define CAT2(a, b)	a##b
#define CAT(a, b)	CAT2(a, b)

/* Allocates through libc, as a real library would; never defines malloc. */
void *CAT(msb_dso_alloc_, DSO_ID)(size_t n)
{
	return malloc(n + DSO_ID);
}

int CAT(msb_dso_id_, DSO_ID) = DSO_ID;
