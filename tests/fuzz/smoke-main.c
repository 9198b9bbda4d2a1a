/* A libFuzzer-compatible driver for ordinary builds: feeds a target its seed
 * corpus and many deterministic mutations of it, so every ctest run (and the
 * sanitizer build above all) exercises each parser with hostile input even
 * without clang's libFuzzer. Real fuzzing: -DSEAL_FUZZ=ON (tests/fuzz/).
 *
 *   smoke-<target> CORPUS_DIR [ITERATIONS]
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SMOKE_MAX_INPUT 65536
#define MAX_SEEDS 256

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

struct seed {
	uint8_t *data;
	size_t len;
};

static size_t load_seeds(const char *dir, struct seed *seeds)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	if (!d) {
		perror(dir);
		exit(2);
	}
	struct dirent *e;
	while ((e = readdir(d)) && n < MAX_SEEDS) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		seeds[n].data = malloc(SMOKE_MAX_INPUT);
		seeds[n].len = fread(seeds[n].data, 1, SMOKE_MAX_INPUT, f);
		fclose(f);
		n++;
	}
	closedir(d);
	return n;
}

/* One of a few classic mutations: flip, overwrite with a grammar-ish byte,
 * insert, delete a range, duplicate a range, splice with another seed. */
static size_t mutate(uint8_t *buf, size_t len, const struct seed *seeds, size_t nseeds)
{
	static const char interesting[] = "\0\r\n \"\\{}[]()~+*%=#.'0123456789NILx\xff\xc3";
	int rounds = 1 + (int)(rng() % 4);
	for (int i = 0; i < rounds; i++) {
		size_t pos = len ? rng() % len : 0;
		switch (rng() % 6) {
		case 0:
			if (len)
				buf[pos] ^= (uint8_t)(1u << (rng() % 8));
			break;
		case 1:
			if (len)
				buf[pos] = (uint8_t)interesting[rng() % (sizeof(interesting) - 1)];
			break;
		case 2:
			if (len < SMOKE_MAX_INPUT) {
				memmove(buf + pos + 1, buf + pos, len - pos);
				buf[pos] = (uint8_t)interesting[rng() % (sizeof(interesting) - 1)];
				len++;
			}
			break;
		case 3: {
			size_t n = len - pos ? rng() % (len - pos) : 0;
			memmove(buf + pos, buf + pos + n, len - pos - n);
			len -= n;
			break;
		}
		case 4: {
			size_t n = len - pos ? 1 + rng() % (len - pos) : 0;
			if (n && len + n <= SMOKE_MAX_INPUT) {
				memmove(buf + pos + n, buf + pos, len - pos);
				len += n;
			}
			break;
		}
		default: {
			const struct seed *o = &seeds[rng() % nseeds];
			size_t from = o->len ? rng() % o->len : 0;
			size_t n = o->len - from;
			if (pos + n > SMOKE_MAX_INPUT)
				n = SMOKE_MAX_INPUT - pos;
			memcpy(buf + pos, o->data + from, n);
			len = pos + n;
			break;
		}
		}
	}
	return len;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR [ITERATIONS]\n", argv[0]);
		return 2;
	}
	long iterations = argc > 2 ? atol(argv[2]) : 20000;
	struct seed seeds[MAX_SEEDS];
	size_t nseeds = load_seeds(argv[1], seeds);
	if (!nseeds) {
		fprintf(stderr, "%s: no seeds\n", argv[1]);
		return 2;
	}
	uint8_t *buf = malloc(SMOKE_MAX_INPUT);
	for (size_t i = 0; i < nseeds; i++)
		LLVMFuzzerTestOneInput(seeds[i].data, seeds[i].len);
	for (long i = 0; i < iterations; i++) {
		const struct seed *s = &seeds[rng() % nseeds];
		memcpy(buf, s->data, s->len);
		size_t len = mutate(buf, s->len, seeds, nseeds);
		LLVMFuzzerTestOneInput(buf, len);
	}
	free(buf);
	for (size_t i = 0; i < nseeds; i++)
		free(seeds[i].data);
	printf("%ld inputs, %zu seeds: no crash\n", iterations + (long)nseeds, nseeds);
	return 0;
}
