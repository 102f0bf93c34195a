/* A seqlock over words: one writer publishes a consistent copy of a
 * structure that readers on other threads copy out without blocking it.
 * The writer never waits (it bumps the sequence to odd, stores the words,
 * bumps it to even with release); a reader retries while the sequence was
 * odd or changed during its copy. The words are relaxed atomics, so a copy
 * racing the writer is defined behaviour (and ThreadSanitizer-clean), and
 * anything the writer stored before a publication (release) is visible to a
 * reader that copied that publication (acquire). Off the packet path. */
#ifndef GEOTAP_SEQLOCK_H
#define GEOTAP_SEQLOCK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct gt_seqlock {
    _Atomic uint64_t seq;
    size_t nwords;
    _Atomic uint64_t *words;    /* [nwords], owned by the caller */
};

static inline void gt_seqlock_init(struct gt_seqlock *l, _Atomic uint64_t *words, size_t nwords)
{
    atomic_init(&l->seq, 0);
    l->nwords = nwords;
    l->words = words;
    for (size_t i = 0; i < nwords; i++)
        atomic_init(&words[i], 0);
}

/* Writer: publish n words from src at word offset off (one writer at a time;
 * several calls between gt_seqlock_begin and gt_seqlock_end form one update). */
static inline void gt_seqlock_begin(struct gt_seqlock *l)
{
    uint64_t q = atomic_load_explicit(&l->seq, memory_order_relaxed);
    atomic_store_explicit(&l->seq, q + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
}

static inline void gt_seqlock_store(struct gt_seqlock *l, size_t off, const uint64_t *src, size_t n)
{
    for (size_t i = 0; i < n && off + i < l->nwords; i++)
        atomic_store_explicit(&l->words[off + i], src[i], memory_order_relaxed);
}

static inline void gt_seqlock_end(struct gt_seqlock *l)
{
    uint64_t q = atomic_load_explicit(&l->seq, memory_order_relaxed);
    atomic_store_explicit(&l->seq, q + 1, memory_order_release);
}

/* Reader: copy words [off, off + n) of one publication into dst; the
 * sequence it read, so several reads can be checked to be of the same
 * publication (gt_seqlock_same). */
static inline uint64_t gt_seqlock_read(struct gt_seqlock *l, size_t off, uint64_t *dst, size_t n)
{
    for (;;) {
        uint64_t a = atomic_load_explicit(&l->seq, memory_order_acquire);
        if (a & 1)
            continue;
        for (size_t i = 0; i < n && off + i < l->nwords; i++)
            dst[i] = atomic_load_explicit(&l->words[off + i], memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&l->seq, memory_order_relaxed) == a)
            return a;
    }
}

/* No publication happened since the read that returned seq. */
static inline int gt_seqlock_same(struct gt_seqlock *l, uint64_t seq)
{
    atomic_thread_fence(memory_order_acquire);
    return atomic_load_explicit(&l->seq, memory_order_relaxed) == seq;
}

/* A double as a word to publish, and back (its bits, unchanged). */
static inline uint64_t gt_seqlock_word(double d)
{
    uint64_t w;
    memcpy(&w, &d, sizeof w);
    return w;
}

static inline double gt_seqlock_double(uint64_t w)
{
    double d;
    memcpy(&d, &w, sizeof d);
    return d;
}

#endif
