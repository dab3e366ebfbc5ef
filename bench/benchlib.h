/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the bench programs: the monotonic clock, CPU pinning,
 * percentiles, and blocking frame I/O (4-byte big-endian length + payload,
 * the same framing as protocol/ and as ssh-agent's).
 */
#ifndef BENCHLIB_H
#define BENCHLIB_H

#include <stddef.h>
#include <stdint.h>

/* Frames the bench moves are small; anything larger is a broken peer. */
#define BENCH_MAX_FRAME (256 * 1024)

/* Nanoseconds on CLOCK_MONOTONIC. */
uint64_t bench_now_ns(void);

/* Pins the calling thread to @cpu (< 0: leaves it alone).  Returns 0 or -errno. */
int bench_pin(int cpu);

/* Sorts @n samples in place, for bench_quantile(). */
void bench_sort(uint64_t *ns, size_t n);

/* The @q-quantile (0..1) of sorted @ns, nearest rank; 0 when @n is 0. */
uint64_t bench_quantile(const uint64_t *ns, size_t n, double q);

/* Connects a blocking, close-on-exec Unix stream socket to @path.  Returns the fd or -errno. */
int bench_connect(const char *path);

/* Writes all of @len bytes / reads exactly @len bytes.  Return 0 or -errno (-EPIPE on EOF). */
int bench_write_all(int fd, const void *buf, size_t len);
int bench_read_all(int fd, void *buf, size_t len);

/*
 * One round trip as libaoai does it: the whole request frame in one send,
 * then the reply's header, then its payload into @buf (@cap bytes).
 * Returns the reply's payload length or -errno.
 */
int bench_roundtrip(int fd, const void *frame, size_t frame_len, uint8_t *buf, size_t cap);

/* Writes @len as the 4-byte big-endian header at @hdr. */
void bench_put_len(uint8_t *hdr, uint32_t len);

#endif
