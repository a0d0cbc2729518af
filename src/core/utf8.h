/*
 * utf8.h: strict UTF-8 validation (RFC 3629 §4).
 */
#ifndef TASKAUTH_UTF8_H
#define TASKAUTH_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern bool ta_utf8_valid(const uint8_t *s, size_t len);

#endif
