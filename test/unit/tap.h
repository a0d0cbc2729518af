/* Minimal TAP producer for the C unit tests of src/core (run by prove). */
#ifndef TASKAUTH_TAP_H
#define TASKAUTH_TAP_H
#include <stdio.h>
#include <string.h>

static int tap_n = 0;
static int tap_failed = 0;

/* Report one test; returns cond so callers can skip dependent checks. */
static int
tap_ok(int cond, const char *name, const char *file, int line)
{
	tap_n++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, name);
	if (!cond)
	{
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	return cond;
}

#define ok(cond, name) tap_ok((cond) ? 1 : 0, (name), __FILE__, __LINE__)
#define is_int(got, want, name) \
	do { long long g_ = (long long) (got), w_ = (long long) (want); \
		if (!ok(g_ == w_, name)) printf("#   got %lld, want %lld\n", g_, w_); } while (0)
#define is_mem(got, gotlen, want, wantlen, name) \
	ok((size_t) (gotlen) == (size_t) (wantlen) && memcmp((got), (want), (wantlen)) == 0, name)
#define is_str(got, want, name) \
	do { const char *g_ = (got), *w_ = (want); \
		if (!ok(g_ && w_ && strcmp(g_, w_) == 0, name)) printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)", w_); } while (0)

/* Print the plan at the end and give the exit status. */
static int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
#endif
