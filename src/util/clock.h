/*
 * clock.h -- milliseconds from the system clocks.
 *
 * clock_mono_ms() for timeouts and ages measured within one run
 * (CLOCK_MONOTONIC), clock_wall_ms() for what is written down or compared
 * across restarts and hosts (CLOCK_REALTIME). No allocation, no lock:
 * usable on the query path (vDSO).
 */
#ifndef UTIL_CLOCK_H
#define UTIL_CLOCK_H

#include <stddef.h>
#include <stdint.h>

uint64_t	clock_mono_ms(void);
uint64_t	clock_wall_ms(void);

/*
 * Wall-clock milliseconds as UTC ISO 8601, "2026-11-26T09:48:17.028Z",
 * into buf (CLOCK_ISO_LEN bytes suffice; cut short, never overrun).
 */
#define CLOCK_ISO_LEN	32
void		clock_iso8601(uint64_t wall_ms, char *buf, size_t size);

#endif
