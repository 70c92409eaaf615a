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

#endif /* MEMSCOPE_NAMES_H */
