/* SPDX-License-Identifier: MIT */
/*
 * loopback_peer_uid(): one inet_diag lookup.  The request names the client's
 * socket from its own side (source = the client's address and port,
 * destination = ours); the kernel answers with that socket's inet_diag_msg,
 * or an NLMSG_ERROR.  The answer is trusted only when it names exactly the
 * socket asked about and one that a process still holds: a socket closed
 * before we asked (orphaned, or in TIME_WAIT) reports uid 0 and inode 0,
 * and uid 0 must not be read as root.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>

#include "loopback_peer.h"

/* One inet_diag_msg and the few attributes the kernel adds unasked: far less. */
#define PEER_REPLY_MAX 8192
/* The kernel answers within sendto(); this only bounds a kernel that would not. */
#define PEER_WAIT_MS 1000
#define PEER_SEQ     1 /* the socket is ours alone: one request, one sequence number */

struct endpoint {
	int family; /* AF_INET (also for a v4-mapped IPv6 address) or AF_INET6 */
	uint8_t addr[16];
	uint16_t port; /* network byte order */
};

static void endpoint_set(struct endpoint *e, int family, const void *addr, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	e->family = family;
	memcpy(e->addr, addr, family == AF_INET ? 4 : 16);
	e->port = port;
}

/* An IPv6 address that is an IPv4 one in disguise is the IPv4 one: the kernel keeps it so. */
static void endpoint_set6(struct endpoint *e, const struct in6_addr *a, uint16_t port)
{
	if (IN6_IS_ADDR_V4MAPPED(a))
		endpoint_set(e, AF_INET, &a->s6_addr[12], port);
	else
		endpoint_set(e, AF_INET6, a, port);
}

static int endpoint_from(const struct sockaddr *sa, socklen_t len, struct endpoint *ret)
{
	if (!sa)
		return -EINVAL;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		endpoint_set(ret, AF_INET, &in->sin_addr, in->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		endpoint_set6(ret, &in6->sin6_addr, in6->sin6_port);
		return 0;
	}
	return sa->sa_family == AF_INET || sa->sa_family == AF_INET6 ? -EINVAL : -EAFNOSUPPORT;
}

/* The endpoint as the kernel writes it in an inet_diag_sockid. */
static void endpoint_from_diag(int family, const __be32 addr[4], __be16 port, struct endpoint *ret)
{
	if (family == AF_INET6)
		endpoint_set6(ret, (const struct in6_addr *)addr, port);
	else
		endpoint_set(ret, AF_INET, addr, port);
}

static int send_request(int fd, const struct endpoint *client, const struct endpoint *local)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = { .nlmsg_len = sizeof(msg),
			 .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST,
			 .nlmsg_seq = PEER_SEQ },
		.req = { .sdiag_family = (uint8_t)client->family,
			 .sdiag_protocol = IPPROTO_TCP,
			 .idiag_states = ~0u,
			 .id = { .idiag_sport = client->port,
				 .idiag_dport = local->port,
				 .idiag_cookie = { INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE } } },
	};
	size_t n = client->family == AF_INET ? 4 : 16;

	memcpy(msg.req.id.idiag_src, client->addr, n);
	memcpy(msg.req.id.idiag_dst, local->addr, n);
	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	return 0;
}

static bool endpoint_equal(const struct endpoint *a, const struct endpoint *b)
{
	return a->family == b->family && a->port == b->port &&
	       memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}

/* The socket the kernel describes is the one asked about, and a process holds it. */
static int check_socket(const struct inet_diag_msg *m, const struct endpoint *client,
			const struct endpoint *local)
{
	struct endpoint src, dst;

	endpoint_from_diag(m->idiag_family, m->id.idiag_src, m->id.idiag_sport, &src);
	endpoint_from_diag(m->idiag_family, m->id.idiag_dst, m->id.idiag_dport, &dst);
	if (!endpoint_equal(&src, client) || !endpoint_equal(&dst, local))
		return -ENOENT;
	return m->idiag_inode != 0 ? 0 : -ENOENT;
}

/* One netlink message of the reply: 0 and *ret_uid, or -errno. */
static int parse_reply(const struct nlmsghdr *h, const struct endpoint *client,
		       const struct endpoint *local, uid_t *ret_uid)
{
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	int r;

	if (h->nlmsg_seq != PEER_SEQ)
		return -EPROTO;
	if (h->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *err = NLMSG_DATA(h);

		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*err)))
			return -EBADMSG;
		return err->error < 0 ? err->error : -ENOENT; /* an ACK alone names nobody */
	}
	if (h->nlmsg_type == NLMSG_DONE)
		return -ENOENT;
	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return -EBADMSG;
	r = check_socket(m, client, local);
	if (r < 0)
		return r;
	*ret_uid = (uid_t)m->idiag_uid;
	return 0;
}

static int receive_reply(int fd, const struct endpoint *client, const struct endpoint *local,
			 uid_t *ret_uid)
{
	union {
		struct nlmsghdr h; /* aligns the buffer for the headers in it */
		char buf[PEER_REPLY_MAX];
	} reply;
	struct sockaddr_nl from;
	socklen_t from_len = sizeof(from);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int r;

	do
		r = poll(&p, 1, PEER_WAIT_MS);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return r < 0 ? -errno : -ETIMEDOUT;
	/* MSG_TRUNC: the datagram's real length, so a cut one is seen as such. */
	n = recvfrom(fd, &reply, sizeof(reply), MSG_TRUNC | MSG_DONTWAIT, (struct sockaddr *)&from,
		     &from_len);
	if (n < 0)
		return -errno;
	if ((size_t)n > sizeof(reply))
		return -EMSGSIZE;
	if (from_len < sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0)
		return -EPROTO; /* only the kernel answers a sock_diag request */
	if (!NLMSG_OK(&reply.h, (size_t)n))
		return -EBADMSG;
	return parse_reply(&reply.h, client, local, ret_uid);
}

int loopback_peer_uid(const struct sockaddr *client, socklen_t client_len,
		      const struct sockaddr *local, socklen_t local_len, uid_t *ret_uid)
{
	struct endpoint c, l;
	uid_t uid;
	int fd, r;

	r = endpoint_from(client, client_len, &c);
	if (r == 0)
		r = endpoint_from(local, local_len, &l);
	if (r < 0)
		return r;
	if (c.family != l.family)
		return -EINVAL;
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	r = send_request(fd, &c, &l);
	if (r == 0)
		r = receive_reply(fd, &c, &l, &uid);
	close(fd);
	if (r == 0)
		*ret_uid = uid;
	return r;
}
