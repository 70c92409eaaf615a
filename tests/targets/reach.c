/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * reach: a labelled corpus for the heap scan (--reachability). Each
 * marked site's blocks are of one class when the program exits, as
 * memcheck defines them (tests/integration/check_reach.py and
 * bench/reach.py hold the same table):
 *
 *   site            blocks  class             how
 *   list_head            1  definitely lost   a 10-node list dropped
 *   list_node            9  indirectly lost   ... its other nodes
 *   tree_root            1  definitely lost   a 15-node tree dropped
 *   tree_node           14  indirectly lost   ... its other nodes
 *   ring_node            4  1 definitely, 3 indirectly: a leaked cycle
 *   alone                8  definitely lost   pointers overwritten
 *   xor_hidden           2  definitely lost   held as p ^ key only
 *   interior             3  possibly lost     held as p + 24 only
 *   tagged               2  possibly lost     held as p | 1 only
 *   global_held          4  still reachable   a global array holds them
 *   chain_head           1  still reachable   a global holds it,
 *   chain_node           5  still reachable   ... and it the rest
 *   thread_held          1  still reachable   only a thread's stack
 *                                             holds it, the thread waits
 *   cloned               3  still reachable   a global array holds
 *                                             them: copies of one
 *                                             block, clone candidates
 *
 * Then it exits with the thread still waiting: the scan runs at exit.
 * With REACH_HOLD in the environment it prints "built" and waits for
 * ever instead, for a scan of a running process (-p, or when tracing
 * ends first).
 * Each dropped structure is published (keep) before it is dropped: the
 * compiler may not elide stores into memory that has escaped.
 */
#include <pthread.h>
#include <stdint.h>
#include "target.h"

#define XOR_KEY		0x5a5a5a5a5a5a5a5aull

struct node {
	struct node *next;
	struct node *kid[2];
	char pad[24];
};

void *held[4];
void *copies[3];
void *chain;
uintptr_t hidden[2];
void *inner[3];
uintptr_t tagged_ptrs[2];

__attribute__((noinline)) static struct node *list_node(struct node *next)
{
	struct node *n = calloc(1, sizeof(*n));	/* @site list_node */

	n->next = next;
	return n;
}

__attribute__((noinline)) static void list_head(void)
{
	struct node *n = NULL, *h;
	int i;

	for (i = 0; i < opaque(9); i++)
		n = list_node(n);
	h = calloc(1, sizeof(*h));	/* @site list_head */
	h->next = n;
	keep(h);
	keep(NULL);
}

__attribute__((noinline)) static struct node *tree_node(int depth)
{
	struct node *n = calloc(1, sizeof(*n));	/* @site tree_node */

	if (depth > 1) {
		n->kid[0] = tree_node(depth - 1);
		n->kid[1] = tree_node(depth - 1);
	}
	return n;
}

__attribute__((noinline)) static void tree_root(void)
{
	struct node *r = calloc(1, sizeof(*r));	/* @site tree_root */

	r->kid[0] = tree_node(opaque(3));
	r->kid[1] = tree_node(opaque(3));
	keep(r);
	keep(NULL);
}

__attribute__((noinline)) static void ring_node(void)
{
	struct node *first = NULL, *prev = NULL, *n;
	int i;

	for (i = 0; i < opaque(4); i++) {
		n = calloc(1, sizeof(*n));	/* @site ring_node */
		if (!first)
			first = n;
		else
			prev->next = n;
		prev = n;
	}
	prev->next = first;
	keep(first);
	keep(NULL);
}

__attribute__((noinline)) static void alone(void)
{
	int i;

	for (i = 0; i < opaque(8); i++)
		keep(malloc(40 + i));	/* @site alone */
	keep(NULL);
}

__attribute__((noinline)) static void xor_hidden(void)
{
	int i;

	for (i = 0; i < opaque(2); i++)
		hidden[i] = (uintptr_t)malloc(64) ^ XOR_KEY;	/* @site xor_hidden */
}

__attribute__((noinline)) static void interior(void)
{
	int i;

	for (i = 0; i < opaque(3); i++)
		inner[i] = (char *)malloc(100) + 24;	/* @site interior */
}

__attribute__((noinline)) static void tagged(void)
{
	int i;

	for (i = 0; i < opaque(2); i++)
		tagged_ptrs[i] = (uintptr_t)malloc(48) | 1;	/* @site tagged */
}

__attribute__((noinline)) static void global_held(void)
{
	int i;

	for (i = 0; i < opaque(4); i++)
		held[i] = malloc(200);	/* @site global_held */
}

__attribute__((noinline)) static struct node *chain_node(struct node *next)
{
	struct node *n = calloc(1, sizeof(*n));	/* @site chain_node */

	n->next = next;
	return n;
}

__attribute__((noinline)) static void chain_head(void)
{
	struct node *n = NULL, *h;
	int i;

	for (i = 0; i < opaque(5); i++)
		n = chain_node(n);
	h = calloc(1, sizeof(*h));	/* @site chain_head */
	h->next = n;
	chain = h;
}

__attribute__((noinline)) static void cloned(void)
{
	static const char conf[64] = "listen=0.0.0.0:8080 workers=4";
	int i;

	for (i = 0; i < opaque(3); i++) {
		copies[i] = malloc(sizeof(conf));	/* @site cloned */
		memcpy(copies[i], conf, sizeof(conf));
	}
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int started;

__attribute__((noinline)) static void *thread_held(void *arg)
{
	void *volatile mine = malloc(300);	/* @site thread_held */

	pthread_mutex_lock(&lock);
	started = 1;
	pthread_cond_broadcast(&cond);
	/* Waits for ever: the block stays on this stack until exit. */
	for (;;)
		pthread_cond_wait(&cond, &lock);
	touch(mine, 1);
	return arg;
}

int main(int argc, char **argv)
{
	pthread_t t;

	target_wait(argc, argv);
	list_head();
	tree_root();
	ring_node();
	alone();
	xor_hidden();
	interior();
	tagged();
	global_held();
	chain_head();
	cloned();
	if (pthread_create(&t, NULL, thread_held, NULL))
		return 1;
	pthread_mutex_lock(&lock);
	while (!started)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	/* No register or stack slot of main may still hold a block. */
	keep(NULL);
	if (getenv("REACH_HOLD")) {
		printf("built\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	exit(0);
}
