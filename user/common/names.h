/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Names a traced process hands us, written where a person reads them: its
 * comm and command line, the paths of the files it maps, the symbols and
 * source files of those. The process chooses them, and a control
 * character in one would reach the terminal as one (an escape sequence
 * that moves the cursor, recolours or retitles it): each is written as
 * \xNN instead.
 */
#ifndef MEMSCOPE_NAMES_H
#define MEMSCOPE_NAMES_H

#include <stdio.h>

void name_put(FILE *f, const char *s);
/*
 * A line made whole in m, an open_memstream() over *line, then written
 * to f as "who: LINE\n" with the line escaped: m is closed, *line freed
 * and NULL. Nothing is written when the stream failed.
 */
void name_put_line(FILE *f, const char *who, FILE *m, char **line);

#endif /* MEMSCOPE_NAMES_H */
