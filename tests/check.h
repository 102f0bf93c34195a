/* Minimal assertions for the C tests: report file:line and keep going, so
 * one run shows every failure; main returns check_result(). */
#ifndef GEOTAP_TESTS_CHECK_H
#define GEOTAP_TESTS_CHECK_H

#include <stdio.h>
#include <inttypes.h>

static int check_failures_;
static long check_count_;

#define CHECK(cond) do { check_count_++; if (!(cond)) { check_failures_++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_EQ_U(a, b) do { unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b); \
    check_count_++; if (a_ != b_) { check_failures_++; \
    fprintf(stderr, "%s:%d: %s == %s failed: %llu != %llu\n", __FILE__, __LINE__, #a, #b, a_, b_); } } while (0)
#define CHECK_MSG(cond, ...) do { check_count_++; if (!(cond)) { check_failures_++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

static inline int check_result(void)
{
    fprintf(stderr, "%ld checks, %d failed\n", check_count_, check_failures_);
    return check_failures_ ? 1 : 0;
}

#endif
