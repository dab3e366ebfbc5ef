/* SPDX-License-Identifier: MIT */
/*
 * Request decoding (protocol/request.c): the input is one frame payload
 * from a peer.  Beyond memory safety, it checks what callers rely on: a
 * known status, a terminated message that never quotes a secret (seeds
 * mark theirs with FUZZ_SECRET_MARK), an empty request on failure, and
 * fields within the documented bounds on success.  And the hot path's
 * shortcut, proto_headers_request_read(), must read only requests the full
 * decoder accepts as "headers", with the same URL.
 */
#include "fuzz.h"
#include "proto.h"

#define REQUEST_ERR_LEN   256
#define REQUEST_SHORT_ERR 8 /* truncation must still terminate */

static void check_add(const struct proto_request *req)
{
	FUZZ_CHECK(proto_name_valid(req->add.name));
	FUZZ_CHECK(req->add.secret && req->add.secret_len >= 1);
	FUZZ_CHECK(req->add.secret_len <= PROTO_MAX_SECRET);
	FUZZ_CHECK(strlen(req->add.secret) == req->add.secret_len);
	FUZZ_CHECK(req->add.lifetime >= -1 && req->add.lifetime <= PROTO_MAX_LIFETIME);
	FUZZ_CHECK(!req->add.host || (*req->add.host && strlen(req->add.host) <= PROTO_MAX_HOST));
}

static void check_request(const struct proto_request *req)
{
	FUZZ_CHECK(req->json && (unsigned)req->op < _PROTO_OP_MAX);
	switch (req->op) {
	case PROTO_OP_ADD:
		check_add(req);
		break;
	case PROTO_OP_REMOVE:
		FUZZ_CHECK(!req->remove.name != !req->remove.all);
		FUZZ_CHECK(!req->remove.name || proto_name_valid(req->remove.name));
		break;
	case PROTO_OP_HEADERS:
		FUZZ_CHECK(req->headers.url && *req->headers.url);
		FUZZ_CHECK(strlen(req->headers.url) <= PROTO_MAX_URL);
		break;
	case PROTO_OP_LOCK:
	case PROTO_OP_UNLOCK:
		FUZZ_CHECK(req->lock.passphrase_len >= 1);
		FUZZ_CHECK(req->lock.passphrase_len <= PROTO_MAX_PASSPHRASE);
		FUZZ_CHECK(strlen(req->lock.passphrase) == req->lock.passphrase_len);
		break;
	case PROTO_OP_TOKEN:
		FUZZ_CHECK(!req->token.profile || proto_name_valid(req->token.profile));
		FUZZ_CHECK(!req->token.scope || proto_scope_valid(req->token.scope));
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_request req, again;
	char err[REQUEST_ERR_LEN], short_err[REQUEST_SHORT_ERR], url[PROTO_HEADERS_READ_MAX];
	enum proto_status st, st2;
	bool quick = proto_headers_request_read(data, size, url, sizeof(url));

	memset(err, 'x', sizeof(err));
	st = proto_request_decode(data, size, &req, err, sizeof(err));
	FUZZ_CHECK(!quick || (st == PROTO_OK && req.op == PROTO_OP_HEADERS &&
			      strcmp(url, req.headers.url) == 0));
	FUZZ_CHECK((unsigned)st < _PROTO_STATUS_MAX);
	FUZZ_CHECK(fuzz_message_ok(err, sizeof(err)));
	FUZZ_CHECK(strcmp(proto_status_name(st), "internal") != 0 || st == PROTO_E_INTERNAL);
	if (st == PROTO_OK) {
		FUZZ_CHECK(err[0] == '\0');
		check_request(&req);
	} else {
		FUZZ_CHECK(req.json == NULL && err[0] != '\0');
	}
	proto_request_done(&req);
	FUZZ_CHECK(req.json == NULL);

	/* Same verdict with a short message buffer, and with none at all. */
	st2 = proto_request_decode(data, size, &again, short_err, sizeof(short_err));
	FUZZ_CHECK(st2 == st && fuzz_terminated(short_err, sizeof(short_err)));
	proto_request_done(&again);
	st2 = proto_request_decode(data, size, &again, NULL, 0);
	FUZZ_CHECK(st2 == st);
	proto_request_done(&again);
	return 0;
}
