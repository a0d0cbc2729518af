/*
 * ta_alloc.c: the allocator described in ta_alloc.h.
 */
#include "core/ta_alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *
default_alloc(void *arg, size_t size)
{
	(void) arg;
	return malloc(size);
}

static void
default_free(void *arg, void *ptr)
{
	(void) arg;
	free(ptr);
}

static ta_allocator current = {default_alloc, default_free, NULL};

void
ta_set_allocator(const ta_allocator *a)
{
	if (a == NULL)
	{
		current.alloc = default_alloc;
		current.free = default_free;
		current.arg = NULL;
	}
	else
		current = *a;
}

void *
ta_malloc(size_t size)
{
	/* some allocators refuse zero bytes: every caller gets a distinct pointer */
	return current.alloc(current.arg, size > 0 ? size : 1);
}

void *
ta_calloc(size_t n, size_t size)
{
	void	   *p;

	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	p = ta_malloc(n * size);
	if (p != NULL)
		memset(p, 0, n * size);
	return p;
}

void
ta_free(void *ptr)
{
	if (ptr != NULL)
		current.free(current.arg, ptr);
}
