/* SPDX-License-Identifier: MIT */
/*
 * dlopen() and dlsym() for the optional libraries (dl_syms.h).  Libraries
 * are never closed: libcurl and OpenSSL keep state (atexit handlers, thread
 * keys) that must outlive any caller.
 */
#include <dlfcn.h>
#include <errno.h>

#include "dl_syms.h"
#include "errmsg.h"

int dl_syms_open(const char *soname, const char *package, const struct dl_sym *syms, size_t n,
		 char *err, size_t errlen)
{
	void *found[DL_SYMS_MAX];
	void *lib;

	if (n > DL_SYMS_MAX)
		return errmsg(err, errlen, -E2BIG, "%s: more than %d functions asked for", soname,
			      DL_SYMS_MAX);
	lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return errmsg(err, errlen, -ENOENT,
			      "%s cannot be loaded (%s): install the %s package", soname, dlerror(),
			      package);
	for (size_t i = 0; i < n; i++) {
		found[i] = dlsym(lib, syms[i].name);
		if (!found[i]) {
			dlclose(lib);
			return errmsg(err, errlen, -ELIBBAD,
				      "%s has no %s: install a current %s package", soname,
				      syms[i].name, package);
		}
	}
	for (size_t i = 0; i < n; i++)
		*syms[i].fn = found[i];
	return 0;
}
