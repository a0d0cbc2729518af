/*
 * generation.c: the cache generations described in generation.h.
 */
#include "generation.h"

static uint64 keys_generation = 0;
static uint64 revocations_generation = 0;
static uint64 revocations_reset_generation = 0;

void
taskauth_generation_bump_keys(void)
{
	keys_generation++;
}

uint64
taskauth_generation_keys(void)
{
	return keys_generation;
}

void
taskauth_generation_bump_revocations(void)
{
	revocations_generation++;
}

uint64
taskauth_generation_revocations(void)
{
	return revocations_generation;
}

void
taskauth_generation_bump_revocations_reset(void)
{
	revocations_reset_generation++;
	revocations_generation++;
}

uint64
taskauth_generation_revocations_reset(void)
{
	return revocations_reset_generation;
}
