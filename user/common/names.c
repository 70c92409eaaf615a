/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
#include <stdlib.h>
#include "names.h"

void name_put(FILE *f, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

void name_put_line(FILE *f, const char *who, FILE *m, char **line)
{
	if (!fclose(m)) {
		fprintf(f, "%s: ", who);
		name_put(f, *line);
		fputc('\n', f);
	}
	free(*line);
	*line = NULL;
}
