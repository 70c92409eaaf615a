/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * A small streaming JSON writer. Strings from traced programs are hostile:
 * every string is escaped, and bytes that are not valid UTF-8 are written
 * as U+FFFD, so the output is always valid JSON.
 */
#ifndef MEMSCOPE_JSON_H
#define MEMSCOPE_JSON_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

struct json;

struct json *json__new(FILE *f, bool pretty);
/*
 * 0, or -EIO if any write failed or the nesting was unbalanced, or the
 * error json__fail was given. Frees j.
 */
int json__free(struct json *j);
/* The caller could not write what belongs here (err: -ENOMEM...): nothing
 * more is written, and json__free returns err. */
void json__fail(struct json *j, int err);
/* A pointer of the caller's, for helpers that are handed only j. */
void json__set_user(struct json *j, void *user);
void *json__user(const struct json *j);

void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
/* The same, on one line even in a pretty document: what is read as one
 * item (a stack's frame numbers, a frame). */
void json_obj_begin_line(struct json *j);
void json_arr_begin_line(struct json *j);
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);	/* NULL writes null */
void json_u64(struct json *j, __u64 v);
void json_s64(struct json *j, long long v);
void json_double(struct json *j, double v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* A key and its value, the form nearly every member takes. */
void json_kv_u64(struct json *j, const char *key, __u64 v);
void json_kv_str(struct json *j, const char *key, const char *s);
void json_kv_bool(struct json *j, const char *key, bool v);
/* An address as a hex string ("0x7f..."): JSON numbers lose 64-bit ones. */
void json_kv_addr(struct json *j, const char *key, __u64 v);

#endif /* MEMSCOPE_JSON_H */
