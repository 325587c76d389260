"""TLS on both sides (issue 5): msgeventd terminates the client's TLS
(listen imaps, STARTTLS on listen imap) and originates its own to the
backend (backend-tls, backend-starttls), and still sees every event.

A throwaway PKI is made for each run with the openssl command line in
the test's temporary directory: a root CA, an intermediate CA, a server
certificate for localhost and 127.0.0.1 issued by the intermediate (the
chain file holds both: clients trust the root only), a second server
certificate for the reload test, and a CA nobody uses ("wrong CA").
Dovecot serves IMAP with STARTTLS and IMAPS with the same certificate.

Clients: Python's imaplib and ssl module, raw sockets, and openssl
s_client.  Every path must produce the same events as the plain one
(Login, MessageAppend, Logout), with the client side's TLS protocol and
cipher on Login.
"""

import hashlib
import imaplib
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from harness import HOST, event_params

SERVER_NAME = "mail.test.example"
PASSWORD = harness.USERS["alice"]
MESSAGE = (b"From: tls@test.example\r\nSubject: over TLS\r\n\r\n"
           b"encrypted both ways\r\n")
UID_RE = re.compile(rb"\[APPENDUID \d+ (\d+)\]")

CA_EXT = """[req]
distinguished_name = dn
[dn]
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
"""
SERVER_EXT = """basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
"""


def _openssl(*args, cwd):
    out = subprocess.run(("openssl",) + args, cwd=cwd,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=60)
    if out.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (" ".join(args),
                                               out.stdout.decode()))


class Pki:
    """Certificates made with the openssl CLI in DIR (see the module's
    docstring).  Paths: ca, wrong_ca, chain/key (server, leaf and
    intermediate), chain2/key2 (another server certificate)."""

    def __init__(self, d):
        self.dir = d
        with open(os.path.join(d, "ca.cnf"), "w") as f:
            f.write(CA_EXT)
        with open(os.path.join(d, "server.ext"), "w") as f:
            f.write(SERVER_EXT)
        self._ca("ca", "msgeventd test root")
        self._ca("wrong-ca", "msgeventd wrong root")
        self._key("int")
        _openssl("req", "-new", "-key", "int.key", "-out", "int.csr",
                 "-subj", "/CN=msgeventd test intermediate", cwd=d)
        _openssl("x509", "-req", "-in", "int.csr", "-CA", "ca.pem",
                 "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
                 "-extfile", "ca.cnf", "-extensions", "v3_ca",
                 "-out", "int.pem", cwd=d)
        for name in ("server", "server2"):
            self._key(name)
            _openssl("req", "-new", "-key", name + ".key", "-out",
                     name + ".csr", "-subj", "/CN=localhost", cwd=d)
            _openssl("x509", "-req", "-in", name + ".csr", "-CA", "int.pem",
                     "-CAkey", "int.key", "-CAcreateserial", "-days", "2",
                     "-extfile", "server.ext", "-out", name + ".crt", cwd=d)
            with open(self.path(name + ".pem"), "wb") as out:
                for part in (name + ".crt", "int.pem"):
                    with open(self.path(part), "rb") as f:
                        out.write(f.read())
        self.ca = self.path("ca.pem")
        self.wrong_ca = self.path("wrong-ca.pem")
        self.chain, self.key = self.path("server.pem"), self.path("server.key")
        self.chain2 = self.path("server2.pem")
        self.key2 = self.path("server2.key")

    def path(self, name):
        return os.path.join(self.dir, name)

    def _key(self, name):
        _openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-out", name + ".key",
                 cwd=self.dir)

    def _ca(self, name, cn):
        self._key(name)
        _openssl("req", "-x509", "-new", "-key", name + ".key", "-days", "2",
                 "-subj", "/CN=" + cn, "-config", "ca.cnf",
                 "-extensions", "v3_ca", "-out", name + ".pem", cwd=self.dir)

    def fingerprint(self, name):
        """SHA-256 of a certificate file's first certificate (DER)."""
        with open(self.path(name)) as f:
            pem = f.read()
        first = pem[:pem.index("-----END CERTIFICATE-----") + 25]
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(first)).hexdigest()


def client_context(ca, alpn=None):
    ctx = ssl.create_default_context(cafile=ca)
    if alpn is not None:
        ctx.set_alpn_protocols(alpn)
    return ctx


def peer_fingerprint(sslsock):
    return hashlib.sha256(sslsock.getpeercert(binary_form=True)).hexdigest()


class TlsSocket(harness.RawClient):
    """harness.RawClient whose socket may turn TLS (implicit, or after
    STARTTLS): read_line(), command() and the rest work on either."""

    def __init__(self, port, ctx=None, server_hostname=HOST):
        super().__init__(port)
        if ctx is not None:
            self.start_tls(ctx, server_hostname)

    def start_tls(self, ctx, server_hostname=HOST):
        self.sock = ctx.wrap_socket(self.sock,
                                    server_hostname=server_hostname)
        return self.sock

    def close_notify(self):
        """An orderly TLS close: close_notify, then the socket."""
        try:
            self.sock = self.sock.unwrap()
        except (OSError, ssl.SSLError):
            pass
        self.close()


class TlsCase(unittest.TestCase):
    """One PKI, one Dovecot with TLS (IMAP with STARTTLS on imap_port,
    IMAPS on imaps_port) and one rsyslog for the class."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mev-tls-")
        # Dovecot's processes read the certificate as other users.
        os.chmod(cls.tmp, 0o755)
        try:
            cls.pki = Pki(cls.tmp)
            for f in os.listdir(cls.tmp):
                os.chmod(os.path.join(cls.tmp, f), 0o644)
            cls.imaps_port = harness.free_port()
            cls.dovecot = harness.Dovecot(extra_config=(
                "ssl = yes\n"
                "ssl_cert = <%s\n"
                "ssl_key = <%s\n"
                "ssl_min_protocol = TLSv1.2\n"
                "service imap-login {\n"
                "  inet_listener imaps {\n"
                "    address = 127.0.0.1\n"
                "    port = %d\n"
                "  }\n"
                "}\n" % (cls.pki.chain, cls.pki.key, cls.imaps_port)))
            cls.dovecot.start()
            cls.rsyslog = harness.Rsyslog().start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if getattr(cls, "rsyslog", None):
                cls.rsyslog.stop()
        finally:
            if getattr(cls, "dovecot", None):
                cls.dovecot.stop()
            if os.environ.get("KEEP_TMP"):
                print("kept %s" % cls.tmp)
            else:
                shutil.rmtree(cls.tmp, ignore_errors=True)

    # -- configuration -----------------------------------------------------

    def tls_lines(self, cert=None, key=None, ca=None):
        return ("tls-cert %s\ntls-key %s\nbackend-ca %s\n"
                % (cert or self.pki.chain, key or self.pki.key,
                   ca or self.pki.ca))

    def msgeventd(self, body, ports, tls=True, **tls_kw):
        config = ("server-name %s\n" % SERVER_NAME +
                  (self.tls_lines(**tls_kw) if tls else "") + body +
                  "output syslog udp://%s:%d\n" % (HOST, self.rsyslog.udp_port))
        m = harness.Msgeventd(config, ports)
        m.start()
        self.addCleanup(m.stop)
        return m

    def listen(self, port, service="imap", backend=None, option=""):
        return "listen %s %s:%d backend %s:%d%s\n" % (
            service, HOST, port, HOST, backend or self.dovecot.imap_port,
            " " + option if option else "")

    # -- events ------------------------------------------------------------

    def events(self, name, port):
        return [event_params(r) for r in self.rsyslog.records()
                if r.get("msgid") == name and
                event_params(r).get("clientPort") == str(port)]

    def wait_event(self, name, port, timeout=10):
        return self.rsyslog.wait_for(
            lambda recs: self.events(name, port) or None, timeout,
            "%s for client port %s" % (name, port))[0]

    def no_event(self, name, port, settle=0.5):
        time.sleep(settle)
        self.assertEqual(self.events(name, port), [],
                         "%s for client port %s" % (name, port))

    def session(self, c, tag="t"):
        """LOGIN, APPEND, LOGOUT on a TlsSocket C (after its greeting);
        returns the UID the server gave the message."""
        _, tagged = c.command(tag + "1", "LOGIN alice %s" % PASSWORD)
        self.assertTrue(tagged.startswith(tag.encode() + b"1 OK"), tagged)
        c.send(b"%s2 APPEND INBOX (\\Seen) {%d}\r\n"
               % (tag.encode(), len(MESSAGE)))
        self.assertTrue(c.read_line().startswith(b"+"))
        c.send(MESSAGE + b"\r\n")
        _, tagged = c.read_until_tagged(tag + "2")
        m = UID_RE.search(tagged)
        self.assertIsNotNone(m, tagged)
        _, tagged = c.command(tag + "3", "LOGOUT")
        self.assertTrue(tagged.startswith(tag.encode() + b"3 OK"), tagged)
        return m.group(1).decode()

    def check_events(self, port, server_port, uid, tls):
        """The events of session(): as on the plain path, plus the
        client side's TLS on Login when TLS is true."""
        login = self.wait_event("Login", port)
        self.assertEqual(login.get("user"), "alice")
        self.assertEqual(login.get("serverPort"), str(server_port))
        if tls:
            self.assertIn(login.get("vnd.msgeventd.tlsProtocol"),
                          ("TLSv1.2", "TLSv1.3"), login)
            self.assertRegex(login.get("vnd.msgeventd.tlsCipher", ""),
                             r"^[A-Z0-9_-]+$", login)
        else:
            self.assertNotIn("vnd.msgeventd.tlsProtocol", login)
            self.assertNotIn("vnd.msgeventd.tlsCipher", login)
        append = self.wait_event("MessageAppend", port)
        self.assertEqual(append.get("uidset"), uid, append)
        self.assertEqual(append.get("messageSize"), str(len(MESSAGE)))
        self.assertEqual(append.get("flagNames"), "\\Seen")
        self.assertRegex(append.get("mailboxID", ""),
                         r"^imap://alice@%s/INBOX;UIDVALIDITY=\d+$"
                         % re.escape(SERVER_NAME))
        logout = self.wait_event("Logout", port)
        self.assertEqual(logout.get("vnd.msgeventd.reason"), "graceful")
        return login


class TlsPaths(TlsCase):
    """The four ways TLS appears, with one msgeventd for all."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.p_imaps, cls.p_starttls, cls.p_btls, cls.p_bstarttls, \
                cls.p_plain = (harness.free_port() for _ in range(5))
            d = cls.dovecot
            config = (
                "server-name %s\n" % SERVER_NAME +
                "tls-cert %s\ntls-key %s\nbackend-ca %s\n"
                % (cls.pki.chain, cls.pki.key, cls.pki.ca) +
                "listen imaps %s:%d backend %s:%d\n"
                % (HOST, cls.p_imaps, HOST, d.imap_port) +
                "listen imap %s:%d backend %s:%d\n"
                % (HOST, cls.p_starttls, HOST, d.imap_port) +
                "listen imap %s:%d backend %s:%d backend-tls\n"
                % (HOST, cls.p_btls, HOST, cls.imaps_port) +
                "listen imap %s:%d backend localhost:%d backend-starttls\n"
                % (HOST, cls.p_bstarttls, d.imap_port) +
                "output syslog udp://%s:%d\n" % (HOST, cls.rsyslog.udp_port))
            cls.m = harness.Msgeventd(config, [
                cls.p_imaps, cls.p_starttls, cls.p_btls, cls.p_bstarttls])
            cls.m.start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if getattr(cls, "m", None):
                cls.m.stop()
        finally:
            super().tearDownClass()

    def tearDown(self):
        self.m.assert_alive()

    def ctx(self, alpn=None):
        return client_context(self.pki.ca, alpn)

    # -- the four paths ----------------------------------------------------

    def test_implicit_tls(self):
        """listen imaps: the chain (leaf + intermediate) verifies against
        the root alone, for 127.0.0.1 and for localhost."""
        with TlsSocket(self.p_imaps, self.ctx()) as c:
            self.assertTrue(c.read_line().startswith(b"* OK"))
            self.assertIn(c.sock.version(), ("TLSv1.2", "TLSv1.3"))
            uid = self.session(c)
            port = c.local_port
        login = self.check_events(port, self.p_imaps, uid, tls=True)
        self.assertEqual(login["vnd.msgeventd.tlsProtocol"], "TLSv1.3")
        with TlsSocket(self.p_imaps, self.ctx(),
                       server_hostname="localhost") as c:
            self.assertTrue(c.read_line().startswith(b"* OK"))

    def test_imaplib_ssl(self):
        """Python's IMAP4_SSL, as a mail client would use it."""
        c = imaplib.IMAP4_SSL(HOST, self.p_imaps, ssl_context=self.ctx(),
                              timeout=10)
        port = c.sock.getsockname()[1]
        c.login("alice", PASSWORD)
        typ, data = c.append("INBOX", "(\\Seen)", None, MESSAGE)
        self.assertEqual(typ, "OK")
        uid = UID_RE.search(b"[" + data[0].split(b"[", 1)[1]).group(1)
        c.logout()
        self.check_events(port, self.p_imaps, uid.decode(), tls=True)

    def test_client_starttls(self):
        """listen imap with a certificate: STARTTLS is msgeventd's.  It
        is offered once (Dovecot's own offer is taken out), in the
        greeting and in CAPABILITY, and no longer after TLS."""
        with TlsSocket(self.p_starttls) as c:
            greeting = c.read_line()
            self.assertIn(b"[CAPABILITY STARTTLS IMAP4rev1 ", greeting)
            self.assertEqual(greeting.count(b"STARTTLS"), 1, greeting)
            out, _ = c.command("s0", "CAPABILITY")
            self.assertEqual(out.count(b"STARTTLS"), 1, out)
            _, tagged = c.command("s1", "STARTTLS")
            self.assertEqual(tagged, b"s1 OK Begin TLS negotiation now\r\n")
            c.start_tls(self.ctx())
            out, _ = c.command("s2", "CAPABILITY")
            self.assertNotIn(b"STARTTLS", out)
            # again: TLS is already active
            _, tagged = c.command("s3", "STARTTLS")
            self.assertTrue(tagged.startswith(b"s3 BAD"), tagged)
            uid = self.session(c)
            port = c.local_port
        self.check_events(port, self.p_starttls, uid, tls=True)

    def test_imaplib_starttls(self):
        c = imaplib.IMAP4(HOST, self.p_starttls, timeout=10)
        port = c.sock.getsockname()[1]
        self.assertIn("STARTTLS", c.capabilities)
        c.starttls(ssl_context=self.ctx())
        self.assertNotIn("STARTTLS", c.capabilities)
        c.login("alice", PASSWORD)
        typ, data = c.append("INBOX", "(\\Seen)", None, MESSAGE)
        self.assertEqual(typ, "OK")
        uid = UID_RE.search(b"[" + data[0].split(b"[", 1)[1]).group(1)
        c.logout()
        self.check_events(port, self.p_starttls, uid.decode(), tls=True)

    def test_backend_tls(self):
        """A plain client, implicit TLS to Dovecot's IMAPS port."""
        with TlsSocket(self.p_btls) as c:
            greeting = c.read_line()
            self.assertTrue(greeting.startswith(b"* OK"), greeting)
            uid = self.session(c)
            port = c.local_port
        self.check_events(port, self.p_btls, uid, tls=False)

    def test_backend_starttls(self):
        """STARTTLS towards Dovecot before the client is served; the
        greeting is Dovecot's, without its pre-TLS capability code."""
        with TlsSocket(self.p_bstarttls) as c:
            greeting = c.read_line()
            self.assertEqual(greeting, b"* OK Dovecot (Debian) ready.\r\n"
                             if b"Debian" in greeting else greeting)
            self.assertNotIn(b"CAPABILITY", greeting)
            out, _ = c.command("c0", "CAPABILITY")
            # msgeventd's own STARTTLS for the client, once
            self.assertEqual(out.count(b" STARTTLS"), 1, out)
            uid = self.session(c)
            port = c.local_port
        self.check_events(port, self.p_bstarttls, uid, tls=False)

    def test_both_sides(self):
        """Client STARTTLS to msgeventd, msgeventd STARTTLS to Dovecot."""
        with TlsSocket(self.p_bstarttls) as c:
            c.read_line()
            _, tagged = c.command("s1", "STARTTLS")
            self.assertTrue(tagged.startswith(b"s1 OK"), tagged)
            c.start_tls(self.ctx())
            uid = self.session(c)
            port = c.local_port
        self.check_events(port, self.p_bstarttls, uid, tls=True)

    # -- clients -----------------------------------------------------------

    def s_client(self, *args, script):
        out = subprocess.run(
            ["openssl", "s_client", "-connect", "%s:%d" % (HOST, args[0]),
             "-CAfile", self.pki.ca, "-verify_return_error", "-quiet",
             "-crlf"] + list(args[1:]),
            input=script, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=30)
        return out.returncode, out.stdout

    def logins(self, server_port):
        return [p for p in (event_params(r) for r in self.rsyslog.records()
                            if r.get("msgid") == "Login")
                if p.get("serverPort") == str(server_port)]

    def test_openssl_s_client(self):
        before = len(self.logins(self.p_imaps))
        rc, out = self.s_client(self.p_imaps, "-alpn", "imap", script=(
            b"a1 LOGIN alice %s\na2 SELECT INBOX\na3 LOGOUT\n"
            % PASSWORD.encode()))
        self.assertEqual(rc, 0, out)
        self.assertIn(b"a1 OK", out)
        self.assertIn(b"a2 OK", out)
        self.assertIn(b"a3 OK", out)
        self.assertNotIn(PASSWORD.encode(), self.rsyslog.raw_bytes())
        logins = self.rsyslog.wait_for(
            lambda r: len(self.logins(self.p_imaps)) > before or None,
            10, "the s_client Login")
        self.assertTrue(logins)
        self.assertEqual(self.logins(self.p_imaps)[-1].get(
            "vnd.msgeventd.tlsProtocol"), "TLSv1.3")

    def test_openssl_s_client_starttls(self):
        """s_client -starttls imap asks CAPABILITY, finds STARTTLS."""
        before = len(self.logins(self.p_starttls))
        rc, out = self.s_client(self.p_starttls, "-starttls", "imap",
                                "-tls1_2", script=(
                                    b"a1 LOGIN alice %s\na2 LOGOUT\n"
                                    % PASSWORD.encode()))
        self.assertEqual(rc, 0, out)
        self.assertIn(b"a1 OK", out)
        self.assertIn(b"a2 OK", out)
        self.rsyslog.wait_for(
            lambda r: len(self.logins(self.p_starttls)) > before or None,
            10, "the s_client Login")
        self.assertEqual(self.logins(self.p_starttls)[-1].get(
            "vnd.msgeventd.tlsProtocol"), "TLSv1.2")

    # -- attacks -----------------------------------------------------------

    def test_starttls_injection(self):
        """A command pipelined behind STARTTLS in the same packet is
        discarded, not executed inside TLS (CVE-2011-0411's kind)."""
        with TlsSocket(self.p_starttls) as c:
            c.read_line()
            c.send(b"i1 STARTTLS\r\ni2 LOGIN alice %s\r\ni3 CREATE "
                   b"Injected\r\n" % PASSWORD.encode())
            self.assertEqual(c.read_line(),
                             b"i1 OK Begin TLS negotiation now\r\n")
            self.assertEqual(c.buf, b"")
            c.start_tls(self.ctx())
            out, tagged = c.command("i4", "NOOP")
            self.assertTrue(tagged.startswith(b"i4 OK"), tagged)
            self.assertNotIn(b"i2 ", out)
            self.assertNotIn(b"i3 ", out)
            # not logged in: the injected LOGIN never ran
            _, tagged = c.command("i5", "SELECT INBOX")
            self.assertTrue(tagged.startswith(b"i5 BAD") or
                            tagged.startswith(b"i5 NO"), tagged)
            port = c.local_port
            self.no_event("Login", port)
            _, tagged = c.command("i6", "LOGIN alice %s" % PASSWORD)
            self.assertTrue(tagged.startswith(b"i6 OK"), tagged)
            out, _ = c.command("i7", 'LIST "" Injected')
            self.assertNotIn(b"* LIST", out)     # never created
            c.command("i8", "LOGOUT")
        self.wait_event("Login", port)
        self.assertRegex(self.m.stderr().decode(),
                         r"session \d+ client 127\.0\.0\.1:%d .*discarded "
                         r"\d+ bytes the client sent after the command"
                         % port)

    def test_starttls_after_pipelined_command(self):
        """STARTTLS behind another command in the same packet: answered
        after that command's reply, in order."""
        with TlsSocket(self.p_starttls) as c:
            c.read_line()
            c.send(b"p1 NOOP\r\np2 STARTTLS\r\n")
            self.assertTrue(c.read_line().startswith(b"p1 OK"))
            self.assertEqual(c.read_line(),
                             b"p2 OK Begin TLS negotiation now\r\n")
            c.start_tls(self.ctx())
            uid = self.session(c)
            port = c.local_port
        self.check_events(port, self.p_starttls, uid, tls=True)

    def test_starttls_behind_login(self):
        """STARTTLS pipelined behind a LOGIN that succeeds: refused
        (RFC 9051 6.2.1: before login only), the session goes on."""
        with TlsSocket(self.p_starttls) as c:
            c.read_line()
            c.send(b"q1 LOGIN alice %s\r\nq2 STARTTLS\r\nq3 NOOP\r\n"
                   % PASSWORD.encode())
            _, tagged = c.read_until_tagged("q1")
            self.assertTrue(tagged.startswith(b"q1 OK"), tagged)
            _, tagged = c.read_until_tagged("q2")
            self.assertEqual(tagged, b"q2 BAD STARTTLS is not allowed "
                             b"after login\r\n")
            _, tagged = c.read_until_tagged("q3")
            self.assertTrue(tagged.startswith(b"q3 OK"), tagged)
            c.command("q4", "LOGOUT")
            port = c.local_port
        login = self.wait_event("Login", port)
        self.assertNotIn("vnd.msgeventd.tlsProtocol", login)

    def test_starttls_on_imaps(self):
        with TlsSocket(self.p_imaps, self.ctx()) as c:
            c.read_line()
            _, tagged = c.command("x1", "STARTTLS")
            self.assertEqual(tagged, b"x1 BAD TLS is already active\r\n")
            _, tagged = c.command("x2", "NOOP")
            self.assertTrue(tagged.startswith(b"x2 OK"), tagged)

    def test_alpn(self):
        """ALPACA: a client offering ALPN must offer imap."""
        with self.assertRaises(ssl.SSLError) as cm:
            TlsSocket(self.p_imaps, self.ctx(["http/1.1"]))
        self.assertIn("NO APPLICATION PROTOCOL",
                      str(cm.exception).upper().replace("_", " "))
        harness.wait_until(lambda: "client offered ALPN http/1.1, not imap"
                           in self.m.stderr().decode(), 5,
                           what="the ALPN diagnostic")
        with TlsSocket(self.p_imaps, self.ctx(["h2", "imap"])) as c:
            self.assertEqual(c.sock.selected_alpn_protocol(), "imap")
            self.assertTrue(c.read_line().startswith(b"* OK"))
        # STARTTLS too
        with TlsSocket(self.p_starttls) as c:
            c.read_line()
            c.command("a1", "STARTTLS")
            with self.assertRaises(ssl.SSLError):
                c.start_tls(self.ctx(["http/1.1"]))

    def test_failed_handshake_is_a_diagnostic(self):
        """Not TLS at all: the connection is closed, msgeventd says why,
        and there is no event."""
        with harness.RawClient(self.p_imaps) as c:
            c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            c.read_until_close(10)
            port = c.local_port
        harness.wait_until(
            lambda: re.search(r"client 127\.0\.0\.1:%d .*client TLS "
                              r"handshake failed: " % port,
                              self.m.stderr().decode()), 5,
            what="the handshake diagnostic")
        self.no_event("Login", port)
        self.assertEqual([r for r in self.rsyslog.records()
                          if event_params(r).get("clientPort") == str(port)],
                         [])

    # -- ends --------------------------------------------------------------

    def test_logout_reasons(self):
        """close_notify without LOGOUT is 'closed'; a TCP close without
        one is 'abort'."""
        c = TlsSocket(self.p_imaps, self.ctx())
        c.read_line()
        c.command("r1", "LOGIN alice %s" % PASSWORD)
        port = c.local_port
        c.close_notify()
        self.assertEqual(self.wait_event("Logout", port).get(
            "vnd.msgeventd.reason"), "closed")
        c = TlsSocket(self.p_imaps, self.ctx())
        c.read_line()
        c.command("r1", "LOGIN alice %s" % PASSWORD)
        port = c.local_port
        c.close()       # Python sends no close_notify on close()
        self.assertEqual(self.wait_event("Logout", port).get(
            "vnd.msgeventd.reason"), "abort")

    def test_big_fetch(self):
        """A 3 MB message both ways through TLS on both sides, byte for
        byte as Dovecot sends it directly."""
        body = b"".join(b"line %07d of a big message over TLS\r\n" % i
                        for i in range(80000))
        msg = b"Subject: big\r\n\r\n" + body
        with TlsSocket(self.p_imaps, self.ctx()) as c:
            c.read_line()
            c.command("b1", "LOGIN alice %s" % PASSWORD)
            c.send(b"b2 APPEND INBOX {%d}\r\n" % len(msg))
            c.read_line()
            c.send(msg + b"\r\n")
            _, tagged = c.read_until_tagged("b2")
            uid = UID_RE.search(tagged).group(1)
            c.command("b3", "SELECT INBOX")
            # a client that does not read for a while: msgeventd's TLS
            # writes wait (WANT_WRITE), its reads from Dovecot stop
            c.send(b"b4 UID FETCH %s BODY.PEEK[]\r\n" % uid)
            time.sleep(1.0)
            via, _ = c.read_until_tagged("b4")
            c.command("b5", "LOGOUT")
        with TlsSocket(self.p_btls) as c:
            c.read_line()
            c.command("b1", "LOGIN alice %s" % PASSWORD)
            c.command("b3", "SELECT INBOX")
            via_b, _ = c.command("b4", "UID FETCH %s BODY.PEEK[]"
                                 % uid.decode())
            c.command("b5", "LOGOUT")
        with harness.RawClient(self.dovecot.imap_port) as c:
            c.read_line()
            c.command("b1", "LOGIN alice %s" % PASSWORD)
            c.command("b3", "SELECT INBOX")
            direct, _ = c.command("b4", "UID FETCH %s BODY.PEEK[]"
                                  % uid.decode())
            c.command("b5", "LOGOUT")
        strip = re.compile(rb" \([0-9.]+ \+ [0-9.]+( \+ [0-9.]+)? secs\)")
        self.assertIn(msg, direct)
        self.assertEqual(strip.sub(b"", via), strip.sub(b"", direct))
        self.assertEqual(strip.sub(b"", via_b), strip.sub(b"", direct))


class FakeStarttlsBackend:
    """A backend that greets with GREETING and answers msgeventd's
    STARTTLS with REPLY (None: never), one connection at a time."""

    def __init__(self, greeting, reply):
        self.greeting, self.reply = greeting, reply
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.got = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    conn.sendall(self.greeting)
                    data = b""
                    while not data.endswith(b"\n"):
                        chunk = conn.recv(1024)
                        if not chunk:
                            break
                        data += chunk
                    self.got.append(data)
                    if self.reply is None:
                        conn.recv(1024)     # until msgeventd gives up
                    else:
                        conn.sendall(self.reply)
                        conn.recv(1024)
                except OSError:
                    pass

    def close(self):
        self.sock.close()


class TlsBackendFailures(TlsCase):
    """Backends whose certificate must not be trusted, and backends
    that do not do STARTTLS as they should."""

    def refused(self, port, pattern):
        with harness.RawClient(port) as c:
            out = c.read_until_close(15)
        self.assertRegex(out, pattern)
        return out

    def test_wrong_ca(self):
        p_tls, p_starttls = harness.free_port(), harness.free_port()
        m = self.msgeventd(
            self.listen(p_tls, backend=self.imaps_port, option="backend-tls") +
            self.listen(p_starttls, option="backend-starttls"),
            [p_tls, p_starttls], ca=self.pki.wrong_ca)
        for port in (p_tls, p_starttls):
            out = self.refused(port, rb"^\* BYE \[UNAVAILABLE\] msgeventd: "
                               rb"backend TLS failed: certificate verify "
                               rb"failed: ")
            self.assertIn(b"unable to get local issuer certificate", out)
        self.assertRegex(m.stderr().decode(), r"warning: session \d+ .*"
                         r"TLS failed: certificate verify failed")
        # an implicit TLS client gets the BYE inside its TLS
        p_imaps = harness.free_port()
        m2 = self.msgeventd(self.listen(p_imaps, service="imaps",
                                        backend=self.imaps_port,
                                        option="backend-tls"),
                            [p_imaps], ca=self.pki.wrong_ca)
        with TlsSocket(p_imaps, client_context(self.pki.ca)) as c:
            out = c.read_until_close(15)
        self.assertIn(b"* BYE [UNAVAILABLE] msgeventd: backend TLS failed: "
                      b"certificate verify failed", out)
        m2.assert_alive()

    def test_name_mismatch(self):
        port = harness.free_port()
        self.msgeventd(self.listen(port, backend=self.imaps_port,
                                   option="backend-tls backend-name "
                                   "imap.other.example"), [port])
        self.refused(port, rb"backend TLS failed: certificate verify "
                     rb"failed: [Hh]ostname mismatch")

    def test_backend_starttls_misbehaving(self):
        cases = (
            (b"* OK ready\r\n", b"msgeventd0 BAD not now\r\n",
             rb"backend TLS failed: the backend refused STARTTLS: "
             rb"msgeventd0 BAD not now\r\n$"),
            # bytes behind the OK would be injected into the session
            (b"* OK ready\r\n", b"msgeventd0 OK go\r\n* 1 EXISTS\r\n",
             rb"backend TLS failed: the backend sent data after its "
             rb"STARTTLS reply\r\n$"),
            (b"* BYE busy\r\n", b"",
             rb"backend TLS failed: the backend's greeting is not OK: "
             rb"\* BYE busy\r\n$"),
            (b"* OK ready\r\n", None,
             rb"backend TLS failed: STARTTLS timed out\r\n$"),
        )
        for greeting, reply, want in cases:
            fake = FakeStarttlsBackend(greeting, reply)
            self.addCleanup(fake.close)
            port = harness.free_port()
            m = self.msgeventd("connect-timeout 1\n" + self.listen(
                port, backend=fake.port, option="backend-starttls"), [port])
            self.refused(port, rb"^\* BYE \[UNAVAILABLE\] msgeventd: " +
                         want)
            if greeting.startswith(b"* OK"):
                self.assertEqual(fake.got, [b"msgeventd0 STARTTLS\r\n"])
            m.assert_alive()

    def test_verify_off(self):
        """backend-verify off: trusted anyway, with a warning."""
        port = harness.free_port()
        m = self.msgeventd("backend-verify off\n" +
                           self.listen(port, backend=self.imaps_port,
                                       option="backend-tls"), [port],
                           ca=self.pki.wrong_ca)
        self.assertIn("backend-verify off: backend certificates are not "
                      "verified", m.stderr().decode())
        with TlsSocket(port) as c:
            self.assertTrue(c.read_line().startswith(b"* OK"))
            c.command("v1", "LOGOUT")

    def test_no_certificate(self):
        """Without tls-cert, STARTTLS is not offered (Dovecot's offer is
        taken out) and a client asking gets BAD from msgeventd, never
        the backend's TLS."""
        port = harness.free_port()
        self.msgeventd(self.listen(port), [port], tls=False)
        with TlsSocket(port) as c:
            greeting = c.read_line()
            self.assertNotIn(b"STARTTLS", greeting)
            out, _ = c.command("n1", "CAPABILITY")
            self.assertNotIn(b"STARTTLS", out)
            _, tagged = c.command("n2", "STARTTLS")
            self.assertTrue(tagged.startswith(b"n2 BAD"), tagged)
            uid = self.session(c)
            port_c = c.local_port
        self.check_events(port_c, port, uid, tls=False)
        with harness.RawClient(self.dovecot.imap_port) as c:
            self.assertIn(b"STARTTLS", c.read_line())   # Dovecot offers it


class TlsConfig(TlsCase):
    """The certificate is part of the configuration: -t checks it, a
    reload replaces it for new sessions only, a bad one is refused."""

    def check(self, text):
        path = os.path.join(self.tmp, "check.conf")
        with open(path, "w") as f:
            f.write(text)
        out = subprocess.run([harness.msgeventd_binary(), "-c", path, "-t"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=10)
        return out.returncode, out.stdout.decode(), out.stderr.decode(), path

    def test_config_check(self):
        listen = "listen imaps 127.0.0.1:1993 backend 127.0.0.1:143\n"
        rc, out, err, _ = self.check(self.tls_lines() + listen +
                                     "backend-verify off\n")
        self.assertEqual((rc, out, err), (0, "", ""))
        rc, _, err, path = self.check(
            "tls-cert %s\ntls-key %s\n" % (self.pki.chain, self.pki.key2) +
            listen)
        self.assertEqual(rc, 1)
        self.assertRegex(err, r"^%s:2: tls-key: .*server2\.key does not go "
                         r"with the certificate in .*server\.pem"
                         % re.escape(path))
        rc, _, err, path = self.check(
            "tls-cert %s/missing.pem\n" % self.tmp + listen)
        self.assertEqual(rc, 1)
        self.assertRegex(err, r"^%s:1: tls-cert: .*missing\.pem: cannot "
                         r"open: No such file or directory" % re.escape(path))
        rc, _, err, path = self.check(self.tls_lines() +
                                      "tls-ciphers NOTHING-AT-ALL\n" + listen)
        self.assertEqual(rc, 1)
        self.assertRegex(err, r"^%s:4: tls-ciphers: 'NOTHING-AT-ALL'"
                         % re.escape(path))
        rc, _, err, path = self.check(listen)
        self.assertEqual(rc, 1)
        self.assertEqual(err.strip(), "%s:1: listen: imaps needs a "
                         "certificate: add tls-cert (and tls-key)" % path)

    def test_reload_certificate(self):
        """SIGHUP with a new certificate during an open TLS session: the
        session goes on, new sessions get the new certificate; a bad one
        afterwards keeps the last good one and says why."""
        cert = os.path.join(self.tmp, "live.pem")
        key = os.path.join(self.tmp, "live.key")
        shutil.copy(self.pki.chain, cert)
        shutil.copy(self.pki.key, key)
        port = harness.free_port()
        m = self.msgeventd(self.listen(port, service="imaps"), [port],
                           cert=cert, key=key)
        ctx = client_context(self.pki.ca)
        old = TlsSocket(port, ctx)
        self.addCleanup(old.close)
        old.read_line()
        self.assertEqual(peer_fingerprint(old.sock),
                         self.pki.fingerprint("server.pem"))
        _, tagged = old.command("o1", "LOGIN alice %s" % PASSWORD)
        self.assertTrue(tagged.startswith(b"o1 OK"))

        shutil.copy(self.pki.chain2, cert)
        shutil.copy(self.pki.key2, key)
        m.proc.send_signal(signal.SIGHUP)
        harness.wait_until(lambda: m.stderr().decode().count(
            "configuration reloaded") == 1, 10, what="the reload")
        with TlsSocket(port, ctx) as c:
            self.assertEqual(peer_fingerprint(c.sock),
                             self.pki.fingerprint("server2.pem"))
            self.assertTrue(c.read_line().startswith(b"* OK"))
        # the old session is untouched, its events keep coming
        _, tagged = old.command("o2", "NOOP")
        self.assertTrue(tagged.startswith(b"o2 OK"), tagged)
        old.send(b"o3 APPEND INBOX {%d+}\r\n%s\r\n" % (len(MESSAGE), MESSAGE))
        _, tagged = old.read_until_tagged("o3")
        self.assertTrue(tagged.startswith(b"o3 OK"), tagged)
        self.wait_event("MessageAppend", old.local_port)

        # a bad certificate: refused, the last good one stays
        with open(cert, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nnot base64\n"
                    "-----END CERTIFICATE-----\n")
        m.proc.send_signal(signal.SIGHUP)
        harness.wait_until(lambda: re.search(
            r"error: reload: .*tls-cert: .*live\.pem: no usable "
            r"certificate chain .*keeping the running configuration",
            m.stderr().decode()), 10, what="the refused reload")
        with TlsSocket(port, ctx) as c:
            self.assertEqual(peer_fingerprint(c.sock),
                             self.pki.fingerprint("server2.pem"))
        _, tagged = old.command("o4", "LOGOUT")
        self.assertTrue(tagged.startswith(b"o4 OK"), tagged)
        self.assertEqual(self.wait_event("Logout", old.local_port).get(
            "vnd.msgeventd.reason"), "graceful")
        m.assert_alive()


if __name__ == "__main__":
    unittest.main()
