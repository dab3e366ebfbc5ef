/* SPDX-License-Identifier: MIT */
/*
 * Finding the real libcurl functions behind the wrappers.
 *
 * The hook never links libcurl: it is preloaded into every program, most of
 * which never touch it.  A wrapper of flavour F forwards to F's function,
 * found with dlvsym(RTLD_NEXT, name, F's symbol version).  A libcurl that
 * was dlopen()ed RTLD_LOCAL (Python's pycurl) is not in the global scope
 * RTLD_NEXT searches; it is found through its soname with RTLD_NOLOAD, which
 * never loads anything.  Results are cached only once found, so a libcurl
 * loaded later is still picked up; the cache is lock-free because the
 * wrappers run on every thread and inside libcurl callbacks.
 */
#include <dlfcn.h>
#include <link.h>
#include <stdatomic.h>
#include <stdint.h>

#include "hook.h"

struct flavour_info {
	const char *version; /* symbol version of its exports */
	const char *soname;
	/*
	 * A libcurl built without symbol versions (upstream's default) binds
	 * unversioned references to our default (OpenSSL) wrappers; the
	 * unversioned lookup finds that library then.
	 */
	bool unversioned_fallback;
};

static const struct flavour_info flavours[_FLAVOUR_MAX] = {
	[FLAVOUR_OPENSSL] = { "CURL_OPENSSL_4", "libcurl.so.4", true },
	[FLAVOUR_GNUTLS] = { "CURL_GNUTLS_3", "libcurl-gnutls.so.4", false },
	[FLAVOUR_NSS] = { "CURL_NSS_3", "libcurl-nss.so.4", false },
};

static const char *const fn_names[_REAL_MAX] = {
	[REAL_EASY_INIT] = "curl_easy_init",
	[REAL_EASY_SETOPT] = "curl_easy_setopt",
	[REAL_EASY_PERFORM] = "curl_easy_perform",
	[REAL_EASY_DUPHANDLE] = "curl_easy_duphandle",
	[REAL_EASY_RESET] = "curl_easy_reset",
	[REAL_EASY_CLEANUP] = "curl_easy_cleanup",
	[REAL_MULTI_ADD_HANDLE] = "curl_multi_add_handle",
	[REAL_EASY_GETINFO] = "curl_easy_getinfo",
	[REAL_SLIST_APPEND] = "curl_slist_append",
	[REAL_SLIST_FREE_ALL] = "curl_slist_free_all",
	[REAL_URL] = "curl_url",
	[REAL_URL_SET] = "curl_url_set",
	[REAL_URL_GET] = "curl_url_get",
	[REAL_URL_CLEANUP] = "curl_url_cleanup",
	[REAL_FREE] = "curl_free",
};

_Atomic(void *) curl_real_cache[_FLAVOUR_MAX][_REAL_MAX];

/* [lo, hi) spans the loaded segments of each flavour's libcurl; hi 0: unknown. */
static _Atomic uintptr_t range_lo[_FLAVOUR_MAX];
static _Atomic uintptr_t range_hi[_FLAVOUR_MAX];

static void *resolve_local(const struct flavour_info *fi, const char *name)
{
	void *lib, *sym;

	lib = dlopen(fi->soname, RTLD_NOLOAD | RTLD_LAZY);
	if (!lib)
		return NULL;
	sym = dlvsym(lib, name, fi->version);
	if (!sym && fi->unversioned_fallback)
		sym = dlsym(lib, name);
	/* Only drops the reference RTLD_NOLOAD took; the library stays. */
	dlclose(lib);
	return sym;
}

static void *resolve(enum hook_flavour fl, enum real_fn fn)
{
	const struct flavour_info *fi = &flavours[fl];
	const char *name = fn_names[fn];
	void *sym;

	sym = dlvsym(RTLD_NEXT, name, fi->version);
	if (!sym)
		sym = resolve_local(fi, name);
	if (!sym && fi->unversioned_fallback)
		sym = dlsym(RTLD_NEXT, name);
	return sym;
}

void *curl_real_resolve(enum hook_flavour fl, enum real_fn fn)
{
	void *sym = resolve(fl, fn);

	if (sym)
		atomic_store_explicit(&curl_real_cache[fl][fn], sym, memory_order_release);
	return sym;
}

struct range_search {
	uintptr_t addr;
	uintptr_t lo, hi;
};

/* dl_iterate_phdr() callback: the object whose segments hold s->addr. */
static int range_find(struct dl_phdr_info *info, size_t size, void *data)
{
	struct range_search *s = data;
	uintptr_t lo = UINTPTR_MAX, hi = 0, start, end;
	int i;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++) {
		if (info->dlpi_phdr[i].p_type != PT_LOAD)
			continue;
		start = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
		end = start + info->dlpi_phdr[i].p_memsz;
		lo = start < lo ? start : lo;
		hi = end > hi ? end : hi;
	}
	if (s->addr < lo || s->addr >= hi)
		return 0;
	s->lo = lo;
	s->hi = hi;
	return 1;
}

static bool range_compute(enum hook_flavour fl)
{
	struct range_search s = { 0 };
	void *fn;

	fn = curl_real(fl, REAL_EASY_SETOPT);
	if (!fn)
		return false;
	s.addr = (uintptr_t)fn;
	if (dl_iterate_phdr(range_find, &s) != 1)
		return false;
	atomic_store_explicit(&range_lo[fl], s.lo, memory_order_relaxed);
	atomic_store_explicit(&range_hi[fl], s.hi, memory_order_release);
	return true;
}

bool curl_real_internal(enum hook_flavour fl, const void *caller)
{
	uintptr_t addr = (uintptr_t)caller, lo, hi;

	if ((unsigned)fl >= _FLAVOUR_MAX)
		return false;
	hi = atomic_load_explicit(&range_hi[fl], memory_order_acquire);
	if (!hi) {
		if (!range_compute(fl))
			return false;
		hi = atomic_load_explicit(&range_hi[fl], memory_order_acquire);
	}
	lo = atomic_load_explicit(&range_lo[fl], memory_order_relaxed);
	return addr >= lo && addr < hi;
}
