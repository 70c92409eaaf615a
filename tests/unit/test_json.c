/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The JSON writer: escaping of hostile strings, UTF-8 repair, separators
 * and indentation, exact integers, and the error state.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <criterion/criterion.h>
#include "json.h"

struct mem {
	FILE *f;
	char *buf;
	size_t len;
	struct json *j;
};

static void mem_open(struct mem *m, bool pretty)
{
	m->buf = NULL;
	m->f = open_memstream(&m->buf, &m->len);
	cr_assert_not_null(m->f, "open_memstream: %s", strerror(errno));
	m->j = json__new(m->f, pretty);
	cr_assert_not_null(m->j, "json__new: %s", strerror(errno));
}

/* Ends the document; returns json__free's result, output in m->buf. */
static int mem_close(struct mem *m)
{
	int rc = json__free(m->j);

	fclose(m->f);
	return rc;
}

static void expect_str(const char *in, const char *want)
{
	struct mem m;
	int rc;

	mem_open(&m, false);
	json_str(m.j, in);
	rc = mem_close(&m);
	cr_expect_eq(rc, 0, "json__free: %d", rc);
	cr_expect_str_eq(m.buf, want, "input \"%s\"", in);
	free(m.buf);
}

Test(json, escapes_quote_and_backslash)
{
	expect_str("a\"b\\c", "\"a\\\"b\\\\c\"");
}

Test(json, escapes_control_chars)
{
	expect_str("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
	expect_str("\x01x\x1f\x7f", "\"\\u0001x\\u001f\x7f\"");
}

Test(json, escapes_html_specials)
{
	expect_str("</script><!--&amp;",
		   "\"\\u003c/script\\u003e\\u003c!--\\u0026amp;\"");
}

Test(json, keeps_valid_multibyte)
{
	/* 2-, 3- and 4-byte forms at the edges of the valid ranges */
	expect_str("\xc2\x80 \xc3\xa9 \xe0\xa0\x80 \xe2\x82\xac \xed\x9f\xbf "
		   "\xee\x80\x80 \xf0\x90\x80\x80 \xf0\x9d\x84\x9e \xf4\x8f\xbf\xbf",
		   "\"\xc2\x80 \xc3\xa9 \xe0\xa0\x80 \xe2\x82\xac \xed\x9f\xbf "
		   "\xee\x80\x80 \xf0\x90\x80\x80 \xf0\x9d\x84\x9e \xf4\x8f\xbf\xbf\"");
}

Test(json, escapes_js_line_separators)
{
	expect_str("a\xe2\x80\xa8" "b\xe2\x80\xa9", "\"a\\u2028b\\u2029\"");
}

#define FFFD "\\ufffd"

Test(json, replaces_bad_lead_bytes)
{
	expect_str("a\x80z", "\"a" FFFD "z\"");		/* lone continuation */
	expect_str("a\xbfz", "\"a" FFFD "z\"");
	expect_str("a\xfez\xff", "\"a" FFFD "z" FFFD "\"");
	expect_str("\xf5\x80\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");
}

Test(json, replaces_bad_continuation)
{
	/* a truncated sequence is one U+FFFD, the next byte stays */
	expect_str("\xe2\x82z", "\"" FFFD "z\"");
	expect_str("\xf0\x9d\x84z", "\"" FFFD "z\"");
	expect_str("\xc3z", "\"" FFFD "z\"");
	/* truncated by the end of the string: no read past the NUL */
	expect_str("z\xf0\x9d", "\"z" FFFD "\"");
	/* a new lead where a continuation belongs */
	expect_str("\xe2\xc3\xa9", "\"" FFFD "\xc3\xa9\"");
}

Test(json, replaces_overlongs)
{
	expect_str("\xc0\xaf", "\"" FFFD FFFD "\"");
	expect_str("\xc1\xbf", "\"" FFFD FFFD "\"");
	expect_str("\xe0\x80\xaf", "\"" FFFD FFFD FFFD "\"");
	expect_str("\xe0\x9f\xbf", "\"" FFFD FFFD FFFD "\"");
	expect_str("\xf0\x80\x80\xaf", "\"" FFFD FFFD FFFD FFFD "\"");
	expect_str("\xf0\x8f\xbf\xbf", "\"" FFFD FFFD FFFD FFFD "\"");
}

Test(json, replaces_surrogates)
{
	expect_str("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\"");	/* U+D800 */
	expect_str("\xed\xbf\xbf", "\"" FFFD FFFD FFFD "\"");	/* U+DFFF */
}

Test(json, replaces_above_max)
{
	expect_str("\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");
	expect_str("\xf7\xbf\xbf\xbf", "\"" FFFD FFFD FFFD FFFD "\"");
}

Test(json, escapes_keys)
{
	struct mem m;

	mem_open(&m, false);
	json_obj_begin(m.j);
	json_key(m.j, "k\"<\x01\xff");
	json_u64(m.j, 1);
	json_obj_end(m.j);
	cr_assert_eq(mem_close(&m), 0);
	cr_expect_str_eq(m.buf, "{\"k\\\"\\u003c\\u0001" FFFD "\":1}");
	free(m.buf);
}

/* One document touching every value kind, nested three deep. */
static void write_sample(struct json *j)
{
	json_obj_begin(j);
	json_key(j, "a");
	json_arr_begin(j);
	json_u64(j, 1);
	json_s64(j, -2);
	json_obj_begin(j);
	json_obj_end(j);
	json_arr_begin(j);
	json_arr_end(j);
	json_arr_end(j);
	json_key(j, "b");
	json_obj_begin(j);
	json_key(j, "c");
	json_str(j, NULL);
	json_key(j, "d");
	json_bool(j, true);
	json_obj_end(j);
	json_key(j, "e");
	json_bool(j, false);
	json_obj_end(j);
}

Test(json, compact_separators)
{
	struct mem m;

	mem_open(&m, false);
	write_sample(m.j);
	cr_assert_eq(mem_close(&m), 0);
	cr_expect_str_eq(m.buf,
		"{\"a\":[1,-2,{},[]],\"b\":{\"c\":null,\"d\":true},\"e\":false}");
	free(m.buf);
}

Test(json, pretty_two_space_indent)
{
	struct mem m;

	mem_open(&m, true);
	write_sample(m.j);
	cr_assert_eq(mem_close(&m), 0);
	cr_expect_str_eq(m.buf,
		"{\n"
		"  \"a\": [\n"
		"    1,\n"
		"    -2,\n"
		"    {},\n"
		"    []\n"
		"  ],\n"
		"  \"b\": {\n"
		"    \"c\": null,\n"
		"    \"d\": true\n"
		"  },\n"
		"  \"e\": false\n"
		"}\n");
	free(m.buf);
}

Test(json, integers_exact)
{
	struct mem m;

	mem_open(&m, false);
	json_arr_begin(m.j);
	json_u64(m.j, UINT64_MAX);
	json_u64(m.j, 0);
	json_s64(m.j, INT64_MIN);
	json_s64(m.j, INT64_MAX);
	json_arr_end(m.j);
	cr_assert_eq(mem_close(&m), 0);
	cr_expect_str_eq(m.buf, "[18446744073709551615,0,"
			 "-9223372036854775808,9223372036854775807]");
	free(m.buf);
}

Test(json, doubles_round_trip)
{
	struct mem m;

	mem_open(&m, false);
	json_arr_begin(m.j);
	json_double(m.j, 0.1);
	json_double(m.j, 0.5);
	json_double(m.j, 1.0 / 3.0);
	json_double(m.j, NAN);
	json_double(m.j, -INFINITY);
	json_arr_end(m.j);
	cr_assert_eq(mem_close(&m), 0);
	cr_expect_str_eq(m.buf, "[0.1,0.5,0.3333333333333333,null,null]");
	free(m.buf);
}

/* Runs a broken sequence of calls; the writer must report -EIO. */
static void expect_broken(void (*fn)(struct json *j), const char *what)
{
	struct mem m;
	int rc;

	mem_open(&m, false);
	fn(m.j);
	rc = mem_close(&m);
	cr_expect_eq(rc, -EIO, "%s: json__free returned %d, want -EIO",
		     what, rc);
	free(m.buf);
}

static void unclosed(struct json *j)
{
	json_obj_begin(j);
	json_key(j, "a");
	json_arr_begin(j);
	json_arr_end(j);
}

static void extra_end(struct json *j)
{
	json_arr_begin(j);
	json_arr_end(j);
	json_arr_end(j);
}

static void mismatched_end(struct json *j)
{
	json_arr_begin(j);
	json_obj_end(j);
}

static void value_without_key(struct json *j)
{
	json_obj_begin(j);
	json_u64(j, 1);
	json_obj_end(j);
}

static void key_in_array(struct json *j)
{
	json_arr_begin(j);
	json_key(j, "a");
	json_u64(j, 1);
	json_arr_end(j);
}

static void key_without_value(struct json *j)
{
	json_obj_begin(j);
	json_key(j, "a");
	json_obj_end(j);
}

static void two_keys(struct json *j)
{
	json_obj_begin(j);
	json_key(j, "a");
	json_key(j, "b");
	json_u64(j, 1);
	json_obj_end(j);
}

static void two_documents(struct json *j)
{
	json_u64(j, 1);
	json_u64(j, 2);
}

static void empty_document(struct json *j)
{
	(void)j;
}

static void too_deep(struct json *j)
{
	int i;

	for (i = 0; i < 1000; i++)
		json_arr_begin(j);
	for (i = 0; i < 1000; i++)
		json_arr_end(j);
}

Test(json, misuse_is_an_error)
{
	expect_broken(unclosed, "unclosed object");
	expect_broken(extra_end, "extra end");
	expect_broken(mismatched_end, "array closed as object");
	expect_broken(value_without_key, "object member without key");
	expect_broken(key_in_array, "key inside array");
	expect_broken(key_without_value, "key without value");
	expect_broken(two_keys, "two keys in a row");
	expect_broken(two_documents, "two top-level values");
	expect_broken(empty_document, "no value at all");
	expect_broken(too_deep, "nesting deeper than the limit");
}

Test(json, nothing_written_after_misuse)
{
	struct mem m;

	mem_open(&m, false);
	too_deep(m.j);
	json_str(m.j, "after");
	cr_assert_eq(mem_close(&m), -EIO);
	cr_expect_null(strstr(m.buf, "after"), "wrote after the error: %s",
		       m.buf);
	cr_expect_null(strchr(m.buf, ']'), "closed what it never opened");
	free(m.buf);
}

Test(json, deep_but_within_limit)
{
	struct mem m;
	int i;

	mem_open(&m, false);
	for (i = 0; i < 32; i++)
		json_arr_begin(m.j);
	for (i = 0; i < 32; i++)
		json_arr_end(m.j);
	cr_expect_eq(mem_close(&m), 0, "32 levels must be allowed");
	free(m.buf);
}

Test(json, write_error_is_eio)
{
	FILE *f = fopen("/dev/full", "w");
	struct json *j;
	int rc;

	cr_assert_not_null(f, "/dev/full: %s", strerror(errno));
	j = json__new(f, false);
	cr_assert_not_null(j);
	json_str(j, "no space left");
	rc = json__free(j);
	fclose(f);
	cr_expect_eq(rc, -EIO, "json__free returned %d, want -EIO", rc);
}

Test(json, new_rejects_null_stream)
{
	errno = 0;
	cr_expect_null(json__new(NULL, false));
	cr_expect_eq(errno, EINVAL);
	cr_expect_eq(json__free(NULL), 0);
}

/* One-line containers keep a pretty document's lines to what is read as
 * one item: a stack's numbers, a frame; the levels around them indent. */
Test(json, one_line_levels_in_pretty)
{
	struct mem m;

	mem_open(&m, true);
	json_obj_begin(m.j);
	json_key(m.j, "s");
	json_arr_begin_line(m.j);
	json_u64(m.j, 1);
	json_u64(m.j, 2);
	json_obj_begin_line(m.j);
	json_kv_u64(m.j, "x", 3);
	json_kv_bool(m.j, "y", false);
	json_obj_end(m.j);
	json_arr_end(m.j);
	json_key(m.j, "t");
	json_arr_begin(m.j);
	json_u64(m.j, 4);
	json_arr_end(m.j);
	json_obj_end(m.j);
	cr_assert_eq(mem_close(&m), 0);
	cr_expect_str_eq(m.buf,
		"{\n"
		"  \"s\": [1, 2, {\"x\": 3, \"y\": false}],\n"
		"  \"t\": [\n"
		"    4\n"
		"  ]\n"
		"}\n");
	free(m.buf);
}

/* A caller that cannot finish (no memory for its frame table) makes the
 * document fail with its error, and nothing is written after it. */
Test(json, fail_keeps_the_callers_error)
{
	struct mem m;
	int rc;

	mem_open(&m, false);
	json_obj_begin(m.j);
	json_kv_u64(m.j, "a", 1);
	json__fail(m.j, -ENOMEM);
	json__fail(m.j, -EINVAL);
	json_kv_u64(m.j, "b", 2);
	json_obj_end(m.j);
	rc = mem_close(&m);
	cr_expect_eq(rc, -ENOMEM, "json__free returned %d, want -ENOMEM", rc);
	cr_expect_str_eq(m.buf, "{\"a\":1");
	free(m.buf);
}
