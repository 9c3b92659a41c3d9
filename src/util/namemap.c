#include "util/namemap.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/*
 * 24 bytes: the low half of the hash is enough to skip other keys, and
 * (capacity below 2^32) to place a key again when the map grows.
 */
struct slot {
	const uint8_t	*key;
	void		*value;
	uint32_t	 hash;
	uint32_t	 len;
};

struct namemap {
	struct slot	*slots;
	size_t		 mask;		/* capacity - 1, capacity a power of 2 */
	size_t		 count;
};

uint64_t
namemap_hash(const uint8_t *key, size_t len)
{
	/* Word-at-a-time multiply-xorshift; names are short. */
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (len * 0xff51afd7ed558ccdULL);
	uint64_t w;

	while (len >= 8) {
		memcpy(&w, key, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 31;
		key += 8;
		len -= 8;
	}
	w = 0;
	memcpy(&w, key, len);
	h = (h ^ w) * 0x94d049bb133111ebULL;
	h ^= h >> 29;
	return h;
}

static size_t
capacity_for(size_t n)
{
	size_t cap = 16;

	while (cap < n * 2)
		cap *= 2;
	return cap;
}

struct namemap *
namemap_new(size_t expected)
{
	struct namemap *m = xcalloc(1, sizeof(*m));
	size_t cap = capacity_for(expected);

	m->slots = xcalloc(cap, sizeof(*m->slots));
	m->mask = cap - 1;
	return m;
}

void
namemap_free(struct namemap *m)
{
	if (m == NULL)
		return;
	free(m->slots);
	free(m);
}

static void
grow(struct namemap *m)
{
	size_t cap = (m->mask + 1) * 2;
	struct slot *old = m->slots;
	size_t oldcap = m->mask + 1;

	m->slots = xcalloc(cap, sizeof(*m->slots));
	m->mask = cap - 1;
	for (size_t i = 0; i < oldcap; i++) {
		size_t j;

		if (old[i].key == NULL)
			continue;
		j = old[i].hash & m->mask;
		while (m->slots[j].key != NULL)
			j = (j + 1) & m->mask;
		m->slots[j] = old[i];
	}
	free(old);
}

void *
namemap_put(struct namemap *m, const uint8_t *key, size_t len, void *value)
{
	uint64_t h = namemap_hash(key, len);
	size_t j;

	if ((m->count + 1) * 2 > m->mask + 1)
		grow(m);
	for (j = h & m->mask; m->slots[j].key != NULL; j = (j + 1) & m->mask) {
		struct slot *s = &m->slots[j];

		if (s->hash == (uint32_t)h && s->len == len &&
		    memcmp(s->key, key, len) == 0)
			return s->value;
	}
	m->slots[j] = (struct slot){key, value, (uint32_t)h, (uint32_t)len};
	m->count++;
	return value;
}

void *
namemap_get(const struct namemap *m, const uint8_t *key, size_t len)
{
	uint64_t h = namemap_hash(key, len);

	for (size_t j = h & m->mask; m->slots[j].key != NULL;
	    j = (j + 1) & m->mask) {
		const struct slot *s = &m->slots[j];

		if (s->hash == (uint32_t)h && s->len == len &&
		    memcmp(s->key, key, len) == 0)
			return s->value;
	}
	return NULL;
}

size_t
namemap_count(const struct namemap *m)
{
	return m->count;
}

void
namemap_foreach(const struct namemap *m, void (*fn)(void *, void *),
    void *arg)
{
	for (size_t i = 0; i <= m->mask; i++)
		if (m->slots[i].key != NULL)
			fn(m->slots[i].value, arg);
}
