/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-login.h>

#include "peer.h"

int peer_from_socket(int fd, struct peer *ret)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	memset(ret, 0, sizeof(*ret));
	ret->pid = cred.pid;
	ret->uid = cred.uid;
	ret->gid = cred.gid;
	return 0;
}

bool peer_uid_allowed(const struct peer *peer, uid_t agent_uid)
{
	return peer->uid == agent_uid || peer->uid == 0;
}

const char *peer_exe(struct peer *peer)
{
	char path[64];
	ssize_t n;

	if (peer->exe_known)
		return peer->exe;
	peer->exe_known = true;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)peer->pid);
	n = readlink(path, peer->exe, sizeof(peer->exe) - 1);
	if (n < 0 || peer->pid <= 0) {
		snprintf(peer->exe, sizeof(peer->exe), "?");
		return peer->exe;
	}
	peer->exe[n] = '\0';
	return peer->exe;
}

static bool unit_allowed(const struct peer *peer, const struct allow *allow)
{
	char *units[2] = { NULL, NULL };
	bool ok = false;

	(void)sd_pid_get_user_unit(peer->pid, &units[0]);
	(void)sd_pid_get_unit(peer->pid, &units[1]);
	for (size_t i = 0; i < allow->n_unit && !ok; i++)
		for (size_t u = 0; u < 2; u++)
			if (units[u] && strcmp(units[u], allow->unit[i]) == 0)
				ok = true;
	free(units[0]);
	free(units[1]);
	return ok;
}

bool peer_allowed(struct peer *peer, const struct allow *allow)
{
	if (allow->n_uid > 0) {
		bool ok = false;

		for (size_t i = 0; i < allow->n_uid; i++)
			ok = ok || allow->uid[i] == peer->uid;
		if (!ok)
			return false;
	}
	if (allow->n_exe > 0) {
		const char *exe = peer_exe(peer);
		bool ok = false;

		for (size_t i = 0; i < allow->n_exe; i++)
			ok = ok || strcmp(allow->exe[i], exe) == 0;
		if (!ok)
			return false;
	}
	return allow->n_unit == 0 || unit_allowed(peer, allow);
}
