# SPDX-License-Identifier: MIT
"""A throw-away test CA and one server certificate, made with the openssl CLI.

    ca = make_ca(ctx)   # -> TestCa(ca_cert, server_cert, server_key), all under ctx.dir
    curl --cacert ca.ca_cert --resolve a.test:PORT:127.0.0.1 https://a.test:PORT/...

The server certificate's SANs are DNS:a.test, DNS:b.test, DNS:c.test,
DNS:localhost and IP:127.0.0.1 (override with names=/ips=).  EC P-256 keys,
valid for two days: fast, and accepted by both OpenSSL and GnuTLS.  The private
keys are registered as secrets, so no failure message can print them.
"""

import subprocess
from collections import namedtuple

from aoaitest import fail, register_secret

OPENSSL_TIMEOUT = 30.0
DEFAULT_NAMES = ("a.test", "b.test", "c.test", "localhost")
DEFAULT_IPS = ("127.0.0.1",)

TestCa = namedtuple("TestCa", "ca_cert server_cert server_key")
TestCa.__test__ = False  # not a pytest test class


def _openssl(ctx, *args):
    r = subprocess.run(["openssl", *map(str, args)], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=OPENSSL_TIMEOUT,
                       env=ctx.base_env(), cwd=ctx.dir)
    if r.returncode != 0:
        fail(f"openssl {args[0]} failed ({r.returncode}):\n{r.stderr}")
    return r


def make_ca(ctx, stem="testca", names=DEFAULT_NAMES, ips=DEFAULT_IPS):
    """Creates a CA and a server certificate signed by it; returns their paths."""
    d = ctx.path(stem)
    d.mkdir(mode=0o700)
    ca_key, ca_cert = d / "ca.key", d / "ca.crt"
    srv_key, srv_csr, srv_cert = d / "server.key", d / "server.csr", d / "server.crt"
    ext = d / "server.ext"
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")

    _openssl(ctx, "req", "-x509", *ec, "-keyout", ca_key, "-out", ca_cert, "-days", "2",
             "-subj", "/CN=aoai-agent test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-addext", "subjectKeyIdentifier=hash")
    _openssl(ctx, "req", "-new", *ec, "-keyout", srv_key, "-out", srv_csr,
             "-subj", f"/CN={names[0]}")
    san = ",".join([f"DNS:{n}" for n in names] + [f"IP:{i}" for i in ips])
    ext.write_text("basicConstraints=critical,CA:FALSE\n"
                   "keyUsage=critical,digitalSignature\n"
                   "extendedKeyUsage=serverAuth\n"
                   "subjectKeyIdentifier=hash\n"
                   "authorityKeyIdentifier=keyid\n"
                   f"subjectAltName={san}\n")
    _openssl(ctx, "x509", "-req", "-in", srv_csr, "-CA", ca_cert, "-CAkey", ca_key,
             "-CAcreateserial", "-CAserial", d / "ca.srl", "-days", "2", "-sha256",
             "-extfile", ext, "-out", srv_cert)
    for key in (ca_key, srv_key):
        key.chmod(0o600)
        register_secret(key.read_text())
    return TestCa(ca_cert, srv_cert, srv_key)
