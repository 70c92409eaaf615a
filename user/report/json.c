/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Streaming JSON writer. Separators come from a small stack of open
 * containers, so callers only say what they write; misuse (a value where a
 * key belongs, unbalanced ends, nesting deeper than JSON_MAX_DEPTH) puts
 * the writer in an error state that json__free reports, and nothing more
 * is written after it.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"

/* Reports nest a handful of levels; anything deeper is a bug. */
#define JSON_MAX_DEPTH		32
#define JSON_INDENT		2

struct json_level {
	bool is_obj;
	bool one_line;		/* no line breaks inside, even when pretty */
	bool key_pending;	/* object: key written, value not yet */
	unsigned long n;	/* members or elements written */
};

struct json {
	FILE *f;
	bool pretty;
	bool broken;		/* misuse seen: output is not JSON */
	bool done;		/* the top-level value is complete */
	int err;		/* why the caller gave up (json__fail), or 0 */
	int depth;
	int one_line;		/* open levels written on one line */
	void *user;		/* the caller's, for helpers given only j */
	struct json_level lv[JSON_MAX_DEPTH];
};

struct json *json__new(FILE *f, bool pretty)
{
	struct json *j;

	if (!f) {
		errno = EINVAL;
		return NULL;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	j->f = f;
	j->pretty = pretty;
	return j;
}

int json__free(struct json *j)
{
	bool ok;
	int err;

	if (!j)
		return 0;
	ok = !j->broken && j->done && j->depth == 0;
	/* Flush so a write error buffered in stdio shows up in ferror. */
	if (fflush(j->f) || ferror(j->f))
		ok = false;
	err = j->err ? j->err : -EIO;
	free(j);
	return ok ? 0 : err;
}

void json__fail(struct json *j, int err)
{
	j->broken = true;
	if (!j->err)
		j->err = err;
}

void json__set_user(struct json *j, void *user)
{
	j->user = user;
}

void *json__user(const struct json *j)
{
	return j->user;
}

static void newline(struct json *j, int depth)
{
	if (j->pretty && !j->one_line)
		fprintf(j->f, "\n%*s", depth * JSON_INDENT, "");
}

/*
 * Called before every value and every key: checks that one is allowed
 * here and writes the separator that goes before it. False means the
 * writer is (now) broken and the caller must write nothing.
 */
static bool enter_item(struct json *j, bool is_key)
{
	struct json_level *l;

	if (j->broken)
		return false;
	if (j->depth == 0) {
		if (is_key || j->done)
			j->broken = true;
		return !j->broken;
	}
	l = &j->lv[j->depth - 1];
	if (l->key_pending) {
		/* The value of a member: its key already wrote the colon. */
		if (is_key)
			j->broken = true;
		return !j->broken;
	}
	if (l->is_obj != is_key) {
		j->broken = true;
		return false;
	}
	if (l->n)
		fputs(j->pretty && j->one_line ? ", " : ",", j->f);
	newline(j, j->depth);
	return true;
}

/* A value (scalar or a closed container) is complete. */
static void leave_value(struct json *j)
{
	struct json_level *l;

	if (j->depth == 0) {
		j->done = true;
		if (j->pretty)
			fputc('\n', j->f);
		return;
	}
	l = &j->lv[j->depth - 1];
	l->key_pending = false;
	l->n++;
}

static void begin(struct json *j, bool is_obj, bool one_line)
{
	if (!enter_item(j, false))
		return;
	if (j->depth == JSON_MAX_DEPTH) {
		j->broken = true;
		return;
	}
	j->lv[j->depth++] = (struct json_level){ .is_obj = is_obj,
						 .one_line = one_line };
	j->one_line += one_line;
	fputc(is_obj ? '{' : '[', j->f);
}

static void end(struct json *j, bool is_obj)
{
	struct json_level *l;

	if (j->broken)
		return;
	if (j->depth == 0) {
		j->broken = true;
		return;
	}
	l = &j->lv[j->depth - 1];
	if (l->is_obj != is_obj || l->key_pending) {
		j->broken = true;
		return;
	}
	j->depth--;
	if (l->n)
		newline(j, j->depth);
	j->one_line -= l->one_line;
	fputc(is_obj ? '}' : ']', j->f);
	leave_value(j);
}

void json_obj_begin(struct json *j)
{
	begin(j, true, false);
}

void json_obj_begin_line(struct json *j)
{
	begin(j, true, true);
}

void json_obj_end(struct json *j)
{
	end(j, true);
}

void json_arr_begin(struct json *j)
{
	begin(j, false, false);
}

void json_arr_begin_line(struct json *j)
{
	begin(j, false, true);
}

void json_arr_end(struct json *j)
{
	end(j, false);
}

/*
 * Length of the well-formed UTF-8 sequence at p, or 0 with *bad set to the
 * length of its maximal ill-formed prefix (at least 1), which becomes one
 * U+FFFD as Unicode recommends. The ranges for the second byte are what
 * rule out overlongs (E0, F0), surrogates (ED) and > U+10FFFF (F4).
 */
static size_t utf8_len(const unsigned char *p, size_t *bad)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else {
		*bad = 1;
		return 0;
	}
	/* The terminating NUL fails the range check: no overrun. */
	for (i = 1; i < len; i++) {
		if (p[i] < lo || p[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return len;
}

/* Writes the sequence at p, U+FFFD if ill-formed; returns bytes used. */
static size_t put_multibyte(struct json *j, const unsigned char *p)
{
	size_t n, bad;

	n = utf8_len(p, &bad);
	if (!n) {
		fputs("\\ufffd", j->f);
		return bad;
	}
	/* U+2028 and U+2029 end a string literal in older JavaScript. */
	if (n == 3 && p[0] == 0xe2 && p[1] == 0x80 &&
	    (p[2] == 0xa8 || p[2] == 0xa9))
		fprintf(j->f, "\\u%04x", 0x2000 | (p[2] - 0x80));
	else
		fwrite(p, 1, n, j->f);
	return n;
}

/*
 * Besides what JSON requires, < > & are escaped so the output can sit
 * inside an HTML <script> element.
 */
static void put_string(struct json *j, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', j->f);
	while (*p) {
		if (*p >= 0x80) {
			p += put_multibyte(j, p);
			continue;
		}
		switch (*p) {
		case '"':
			fputs("\\\"", j->f);
			break;
		case '\\':
			fputs("\\\\", j->f);
			break;
		case '\b':
			fputs("\\b", j->f);
			break;
		case '\f':
			fputs("\\f", j->f);
			break;
		case '\n':
			fputs("\\n", j->f);
			break;
		case '\r':
			fputs("\\r", j->f);
			break;
		case '\t':
			fputs("\\t", j->f);
			break;
		case '<':
		case '>':
		case '&':
			fprintf(j->f, "\\u%04x", *p);
			break;
		default:
			if (*p < 0x20)
				fprintf(j->f, "\\u%04x", *p);
			else
				fputc(*p, j->f);
		}
		p++;
	}
	fputc('"', j->f);
}

void json_key(struct json *j, const char *key)
{
	if (!key) {
		j->broken = true;
		return;
	}
	if (!enter_item(j, true))
		return;
	put_string(j, key);
	fputs(j->pretty ? ": " : ":", j->f);
	j->lv[j->depth - 1].key_pending = true;
}

void json_str(struct json *j, const char *s)
{
	if (!s) {
		json_null(j);
		return;
	}
	if (!enter_item(j, false))
		return;
	put_string(j, s);
	leave_value(j);
}

void json_u64(struct json *j, __u64 v)
{
	if (!enter_item(j, false))
		return;
	fprintf(j->f, "%llu", (unsigned long long)v);
	leave_value(j);
}

void json_s64(struct json *j, long long v)
{
	if (!enter_item(j, false))
		return;
	fprintf(j->f, "%lld", v);
	leave_value(j);
}

/*
 * The shortest of %.15g..%.17g that reads back as v; JSON has no NaN or
 * infinity, so those are null.
 */
void json_double(struct json *j, double v)
{
	char buf[32];
	int prec;

	if (!isfinite(v)) {
		json_null(j);
		return;
	}
	if (!enter_item(j, false))
		return;
	for (prec = 15;; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (prec == 17 || strtod(buf, NULL) == v)
			break;
	}
	fputs(buf, j->f);
	leave_value(j);
}

void json_bool(struct json *j, bool v)
{
	if (!enter_item(j, false))
		return;
	fputs(v ? "true" : "false", j->f);
	leave_value(j);
}

void json_null(struct json *j)
{
	if (!enter_item(j, false))
		return;
	fputs("null", j->f);
	leave_value(j);
}

void json_kv_u64(struct json *j, const char *key, __u64 v)
{
	json_key(j, key);
	json_u64(j, v);
}

void json_kv_str(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_str(j, s);
}

void json_kv_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}

void json_kv_addr(struct json *j, const char *key, __u64 v)
{
	char addr[2 + 16 + 1];

	snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)v);
	json_kv_str(j, key, addr);
}
