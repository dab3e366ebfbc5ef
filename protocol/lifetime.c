/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "lifetime.h"
#include "proto.h"

static long long unit_seconds(char unit)
{
	switch (unit) {
	case '\0':
	case 's':
	case 'S':
		return 1;
	case 'm':
	case 'M':
		return 60;
	case 'h':
	case 'H':
		return 3600;
	case 'd':
	case 'D':
		return 86400;
	case 'w':
	case 'W':
		return 604800;
	default:
		return -1;
	}
}

int lifetime_parse(const char *text, long long *ret)
{
	long long value, unit;
	char *end;

	if (!text || *text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	value = strtoll(text, &end, 10);
	if (errno || (*end && end[1]))
		return -EINVAL;
	unit = unit_seconds(*end);
	if (unit < 0 || value > PROTO_MAX_LIFETIME / unit)
		return -EINVAL;
	*ret = value * unit;
	return 0;
}
