"""POP3 through msgeventd (issue 6): real clients (poplib, raw sockets)
against a real Dovecot POP3 server, events collected by rsyslog.

One Dovecot for the class, with TLS (POP3 with STLS, POP3S), APOP
enabled (it then puts a timestamp in its greeting) and, where the
plugins are installed, its push-notification Lua driver recording what
the store itself saw (harness.Dovecot(push_lua=True), also for pop3).
Every test uses a user of its own (pop1, pop2, ...), so that mailboxes
do not mix.  One msgeventd listens for POP3 in every way: plain (STLS
offered, its certificate being set), POP3S, plain to Dovecot's POP3S
(backend-tls), STLS to Dovecot (backend-starttls), and IMAP to the same
Dovecot for comparison; pop3-uidl-pattern reads Dovecot's default
unique-ids (%08Xu%08Xv).

What is checked: Login (service "pop"), Logout and its reason,
MessageExpunge only at +OK to QUIT with the right unique-ids and UIDs
(the ones IMAP shows, the mailboxID an IMAP session through msgeventd
reports, the UIDs Dovecot's own record names), nothing after RSET or a
dropped connection, the UIDL msgeventd asks for itself invisibly (the
client gets byte for byte what a direct session on a twin mailbox
gets), STLS answered by msgeventd, LoginFailure, no password anywhere,
garbage and over-long lines.
"""

import base64
import imaplib
import os
import poplib
import re
import shutil
import socket
import ssl
import tempfile
import threading
import time
import unittest

import harness
from harness import HOST, event_params
from test_tls import Pki, client_context

SERVER_NAME = "mail.test.example"
LINE_MAX = 65536
# Dovecot's default pop3_uidl_format, as INTERFACE.md spells it.
PATTERN = "^(?<uid>[0-9A-Fa-f]{8})(?<uidvalidity>[0-9A-Fa-f]{8})$"
WRONG_PASSWORD = "Wr0ng-Secr3t-pop-pw"
USERS = dict(harness.USERS, **{"pop%d" % i: "Secr3t-pop%d-pw" % i
                               for i in range(1, 18)})
PUSH_LUA_MISSING = harness.Dovecot.push_lua_missing()
# The same date for twin mailboxes' messages: their bytes must not differ.
DATE = '"01-Jan-2024 10:00:00 +0000"'


class PopDovecot(harness.Dovecot):
    users = USERS


def message(n, user="x"):
    return (b"From: pop@test.example\r\nTo: %s@test.example\r\n"
            b"Subject: message %d\r\n\r\nbody %d\r\n.a line with a dot\r\n"
            % (user.encode(), n, n))


def secrets():
    """What must never leave msgeventd: passwords, their SASL forms."""
    out = [pw.encode() for pw in USERS.values()] + [WRONG_PASSWORD.encode()]
    for user, pw in list(USERS.items()) + [("pop1", WRONG_PASSWORD)]:
        out.append(base64.b64encode(b"\0" + user.encode() + b"\0" +
                                    pw.encode()))
    return out


class FakeBackend:
    """A POP3 "server" that greets and then answers +OK to every line
    it reads, or sends LINE (bytes) after the greeting; for what Dovecot
    does not let through (it has line limits of its own)."""

    def __init__(self, send=b""):
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.send = send
        self.conns = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self.serve, args=(conn,),
                             daemon=True).start()

    def serve(self, conn):
        try:
            conn.sendall(b"+OK fake ready\r\n" + self.send)
            buf = b""
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
                while b"\n" in buf:
                    _, buf = buf.split(b"\n", 1)
                    conn.sendall(b"+OK\r\n")
                buf = buf[-16:]
        except OSError:
            pass

    def close(self):
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


class Pop3(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mev-pop-")
        os.chmod(cls.tmp, 0o755)
        try:
            cls.pki = Pki(cls.tmp)
            for f in os.listdir(cls.tmp):
                os.chmod(os.path.join(cls.tmp, f), 0o644)
            cls.pop3s_port = harness.free_port()
            extra = (
                "ssl = yes\n"
                "ssl_cert = <%s\n"
                "ssl_key = <%s\n"
                "ssl_min_protocol = TLSv1.2\n"
                "auth_mechanisms = plain login apop\n"
                "service pop3-login {\n"
                "  inet_listener pop3s {\n"
                "    address = 127.0.0.1\n"
                "    port = %d\n"
                "  }\n"
                "}\n" % (cls.pki.chain, cls.pki.key, cls.pop3s_port))
            if PUSH_LUA_MISSING is None:
                extra += ("protocol pop3 {\n"
                          "  mail_plugins = $mail_plugins %s\n"
                          "}\n" % " ".join(harness.Dovecot.PUSH_LUA_PLUGINS))
            cls.dovecot = PopDovecot(extra_config=extra,
                                     push_lua=PUSH_LUA_MISSING is None)
            cls.dovecot.start()
            cls.rsyslog = harness.Rsyslog().start()
            (cls.p_plain, cls.p_pop3s, cls.p_btls, cls.p_bstarttls,
             cls.p_imap) = (harness.free_port() for _ in range(5))
            d = cls.dovecot
            config = (
                "server-name %s\n" % SERVER_NAME +
                "tls-cert %s\ntls-key %s\nbackend-ca %s\n"
                % (cls.pki.chain, cls.pki.key, cls.pki.ca) +
                "pop3-uidl-pattern \"%s\" hex\n" % PATTERN +
                "listen pop3 %s:%d backend %s:%d\n"
                % (HOST, cls.p_plain, HOST, d.pop3_port) +
                "listen pop3s %s:%d backend %s:%d\n"
                % (HOST, cls.p_pop3s, HOST, d.pop3_port) +
                "listen pop3 %s:%d backend %s:%d backend-tls\n"
                % (HOST, cls.p_btls, HOST, cls.pop3s_port) +
                "listen pop3 %s:%d backend localhost:%d backend-starttls\n"
                % (HOST, cls.p_bstarttls, d.pop3_port) +
                "listen imap %s:%d backend %s:%d\n"
                % (HOST, cls.p_imap, HOST, d.imap_port) +
                "output syslog udp://%s:%d\n" % (HOST, cls.rsyslog.udp_port))
            cls.m = harness.Msgeventd(config, [
                cls.p_plain, cls.p_pop3s, cls.p_btls, cls.p_bstarttls,
                cls.p_imap])
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

    def tearDown(self):
        self.m.assert_alive()

    # -- helpers -----------------------------------------------------------

    def ctx(self):
        return client_context(self.pki.ca)

    def events(self, name, port):
        return [event_params(r) for r in self.rsyslog.records()
                if r.get("msgid") == name and
                event_params(r).get("clientPort") == str(port)]

    def wait_event(self, name, port, timeout=10):
        return self.rsyslog.wait_for(
            lambda recs: self.events(name, port) or None, timeout,
            "%s for client port %s" % (name, port))[0]

    def deliver(self, user, count):
        for i in range(count):
            self.dovecot.lmtp_deliver(user, message(i + 1, user))

    def imap_state(self, user):
        """(UIDVALIDITY, [UIDs in sequence order]) of USER's INBOX, read
        straight from Dovecot."""
        c = self.dovecot.imap(user)
        try:
            c.select("INBOX")
            typ, data = c.response("UIDVALIDITY")
            uidvalidity = int(data[0])
            typ, data = c.uid("FETCH", "1:*", "(UID)")
            uids = [int(m) for m in re.findall(rb"UID (\d+)",
                                               b" ".join(
                                                   d for d in data if d))]
        finally:
            c.logout()
        return uidvalidity, uids

    def imap_expunge_first(self, user):
        """Remove USER's first message, so that UIDs and POP3 message
        numbers differ from then on."""
        c = self.dovecot.imap(user)
        try:
            c.select("INBOX")
            c.store("1", "+FLAGS", "(\\Deleted)")
            c.expunge()
        finally:
            c.logout()

    def pop(self, port, user=None):
        p = poplib.POP3(HOST, port, timeout=10)
        if user:
            p.user(user)
            p.pass_(USERS[user])
        return p

    def raw(self, port):
        c = harness.RawClient(port)
        greeting = c.read_line()
        self.assertTrue(greeting.startswith(b"+OK"), greeting)
        return c

    def cmd(self, c, line, ok=True):
        c.send(line.encode() + b"\r\n" if isinstance(line, str) else line)
        resp = c.read_line()
        if ok is not None:
            self.assertEqual(resp.startswith(b"+OK"), ok, (line, resp))
        return resp

    @staticmethod
    def multi(c):
        """The lines of a multi-line response up to its ".", joined."""
        out = b""
        while True:
            line = c.read_line()
            out += line
            if line == b".\r\n":
                return out

    def login_raw(self, c, user):
        self.cmd(c, "USER %s" % user)
        self.cmd(c, "PASS %s" % USERS[user])

    def assert_no_secrets(self):
        collected = self.rsyslog.raw_bytes()
        logged = self.m.stderr()
        for secret in secrets():
            self.assertNotIn(secret, collected)
            self.assertNotIn(secret, logged)

    def check_login(self, port, user, server_port, tls=False,
                    mechanism=None):
        login = self.wait_event("Login", port)
        self.assertEqual(login.get("user"), user)
        self.assertEqual(login.get("service"), "pop")
        self.assertEqual(login.get("serverDomain"), SERVER_NAME)
        self.assertEqual(login.get("serverFQDN"), SERVER_NAME)
        self.assertEqual(login.get("serverPort"), str(server_port))
        self.assertEqual(login.get("clientIP"), HOST)
        self.assertEqual(login.get("uri"), "pop://%s@%s" % (user,
                                                            SERVER_NAME))
        self.assertEqual(login.get("vnd.msgeventd.mechanism"), mechanism)
        if tls:
            self.assertIn(login.get("vnd.msgeventd.tlsProtocol"),
                          ("TLSv1.2", "TLSv1.3"), login)
            self.assertTrue(login.get("vnd.msgeventd.tlsCipher"))
        else:
            self.assertNotIn("vnd.msgeventd.tlsProtocol", login)
        return login

    def check_logout(self, port, reason):
        logout = self.wait_event("Logout", port)
        self.assertEqual(logout.get("vnd.msgeventd.reason"), reason)
        self.assertEqual(logout.get("service"), "pop")
        self.assertRegex(logout.get("vnd.msgeventd.duration", ""), r"^\d+$")
        return logout

    def mailbox_id(self, user, uidvalidity):
        return "imap://%s@%s/INBOX;UIDVALIDITY=%d" % (user, SERVER_NAME,
                                                      uidvalidity)

    # -- logins, reading ---------------------------------------------------

    def test_user_pass_retr(self):
        """USER/PASS, STAT, LIST, RETR, TOP, NOOP, QUIT with poplib:
        Login and Logout; RETR is no MessageRead (POP has no seen), and
        a QUIT without DELE expunges nothing."""
        self.deliver("pop1", 2)
        p = self.pop(self.p_plain, "pop1")
        port = p.sock.getsockname()[1]
        self.assertEqual(p.stat()[0], 2)
        self.assertEqual(len(p.list()[1]), 2)
        resp, lines, _ = p.retr(1)
        self.assertIn(b"Subject: message 1", lines)
        self.assertIn(b".a line with a dot", lines)
        p.top(2, 0)
        p.noop()
        p.quit()
        self.check_login(port, "pop1", self.p_plain)
        self.check_logout(port, "graceful")
        self.assertEqual(self.events("MessageRead", port), [])
        self.assertEqual(self.events("MessageExpunge", port), [])
        self.assertEqual(len(self.imap_state("pop1")[1]), 2)
        self.assert_no_secrets()

    def test_apop(self):
        """APOP (Dovecot with the apop mechanism and plaintext passwords:
        the greeting carries its timestamp, passed on untouched)."""
        p = self.pop(self.p_plain)
        self.assertRegex(p.getwelcome(), rb"<[^>]+@[^>]+>$")
        port = p.sock.getsockname()[1]
        p.apop("pop2", USERS["pop2"])
        p.stat()
        p.quit()
        self.check_login(port, "pop2", self.p_plain, mechanism="APOP")
        self.check_logout(port, "graceful")
        self.assert_no_secrets()

    def test_auth_plain(self):
        """AUTH PLAIN with an initial response (RFC 5034), then AUTH
        LOGIN's two challenges on another connection."""
        c = self.raw(self.p_plain)
        resp = self.cmd(c, "AUTH PLAIN " + base64.b64encode(
            b"\0pop3\0" + USERS["pop3"].encode()).decode())
        self.assertTrue(resp.startswith(b"+OK"), resp)
        self.cmd(c, "QUIT")
        c.read_until_close()
        self.check_login(c.local_port, "pop3", self.p_plain,
                         mechanism="PLAIN")
        self.check_logout(c.local_port, "graceful")

        c = self.raw(self.p_plain)
        c.send(b"AUTH LOGIN\r\n")
        self.assertTrue(c.read_line().startswith(b"+ "))
        c.send(base64.b64encode(b"pop3") + b"\r\n")
        self.assertTrue(c.read_line().startswith(b"+ "))
        c.send(base64.b64encode(USERS["pop3"].encode()) + b"\r\n")
        self.assertTrue(c.read_line().startswith(b"+OK"))
        c.close()
        self.check_login(c.local_port, "pop3", self.p_plain,
                         mechanism="LOGIN")
        self.check_logout(c.local_port, "abort")
        self.assert_no_secrets()

    def test_login_failure(self):
        """A wrong password by USER/PASS, APOP and AUTH PLAIN: one
        vnd.msgeventd.LoginFailure each, with the attempted user and
        Dovecot's [AUTH] code; no password in any output."""
        c = self.raw(self.p_plain)
        self.cmd(c, "USER pop1")
        resp = self.cmd(c, "PASS " + WRONG_PASSWORD, ok=False)
        self.assertTrue(resp.startswith(b"-ERR [AUTH]"), resp)
        self.cmd(c, "APOP pop1 0123456789abcdef0123456789abcdef", ok=False)
        self.cmd(c, "AUTH PLAIN " + base64.b64encode(
            b"\0pop1\0" + WRONG_PASSWORD.encode()).decode(), ok=False)
        self.cmd(c, "QUIT")
        c.read_until_close()
        port = c.local_port
        fails = self.rsyslog.wait_for(
            lambda r: (len(self.events("vnd.msgeventd.LoginFailure", port))
                       >= 3 and self.events("vnd.msgeventd.LoginFailure",
                                            port)), 10, "3 LoginFailures")
        self.assertEqual([f.get("user") for f in fails], ["pop1"] * 3)
        self.assertEqual([f.get("vnd.msgeventd.mechanism") for f in fails],
                         [None, "APOP", "PLAIN"])
        for f in fails:
            self.assertEqual(f.get("vnd.msgeventd.responseCode"), "AUTH")
            self.assertEqual(f.get("service"), "pop")
            self.assertEqual(f.get("clientIP"), HOST)
        self.assertEqual(self.events("Login", port), [])
        self.assertEqual(self.events("Logout", port), [])
        self.assert_no_secrets()

    # -- expunges ----------------------------------------------------------

    def test_dele_quit(self):
        """DELE then QUIT: one MessageExpunge at +OK to QUIT with the
        unique-ids of the deleted messages, their UIDs as IMAP shows
        them (UIDs differ from message numbers here), and the mailboxID
        an IMAP session through msgeventd reports for the same INBOX;
        Dovecot's own record names the same UIDs."""
        user = "pop4"
        self.deliver(user, 4)
        self.imap_expunge_first(user)
        # A message appended through msgeventd's IMAP side: its event's
        # mailboxID and UID are the IMAP view of the same INBOX.
        c = imaplib.IMAP4(HOST, self.p_imap, timeout=10)
        iport = c.sock.getsockname()[1]
        c.login(user, USERS[user])
        typ, data = c.append("INBOX", None, None, message(9, user))
        self.assertEqual(typ, "OK")
        c.logout()
        append = self.wait_event("MessageAppend", iport)
        uidvalidity, uids = self.imap_state(user)
        self.assertEqual(append["mailboxID"],
                         self.mailbox_id(user, uidvalidity))
        self.assertEqual(append["uidset"], str(uids[-1]))
        self.assertEqual(len(uids), 4)      # UIDs 2, 3, 4, 5

        push_start = (len(self.dovecot.push_events())
                      if PUSH_LUA_MISSING is None else 0)
        p = self.pop(self.p_plain, user)
        port = p.sock.getsockname()[1]
        listing = dict(l.decode().split() for l in p.uidl()[1])
        p.dele(2)
        p.dele(4)       # the appended one
        self.assertEqual(self.events("MessageExpunge", port), [])
        p.quit()
        self.check_login(port, user, self.p_plain)
        ex = self.wait_event("MessageExpunge", port)
        self.assertEqual(ex["uidset"], "%d,%d" % (uids[1], uids[3]))
        self.assertEqual(ex["vnd.msgeventd.uidl"],
                         "%s %s" % (listing["2"], listing["4"]))
        self.assertEqual(ex["mailboxID"], append["mailboxID"])
        self.assertEqual(ex["uri"], append["mailboxID"])
        self.assertEqual(ex["user"], user)
        self.assertEqual(ex["service"], "pop")
        self.assertNotIn("vnd.msgeventd.truncated", ex)
        self.check_logout(port, "graceful")
        self.assertEqual(self.imap_state(user)[1], [uids[0], uids[2]])
        if PUSH_LUA_MISSING is None:
            recorded = self.dovecot.wait_push_events(
                lambda evs: [e for e in evs[push_start:]
                             if e["event"] == "MessageExpunge" and
                             e["user"] == user] or None)
            self.assertEqual(sorted(e["uid"] for e in recorded),
                             [uids[1], uids[3]])
            self.assertEqual({e["service"] for e in recorded}, {"pop3"})
            self.assertEqual({e["uidvalidity"] for e in recorded},
                             {uidvalidity})

    def test_dele_one_uri(self):
        """One message expunged: uri names it (/;UID=n), through
        backend-starttls (STLS to Dovecot) and backend-tls (Dovecot's
        POP3S) alike, with msgeventd's STLS offered once in CAPA."""
        for user, port in (("pop5", self.p_bstarttls),
                           ("pop6", self.p_btls)):
            self.deliver(user, 2)
            uidvalidity, uids = self.imap_state(user)
            p = self.pop(port)
            self.assertTrue(p.getwelcome().startswith(b"+OK Dovecot"))
            capa = p.capa()
            self.assertIn("STLS", capa)
            p.user(user)
            p.pass_(USERS[user])
            cport = p.sock.getsockname()[1]
            p.dele(2)
            p.quit()
            self.check_login(cport, user, port)
            ex = self.wait_event("MessageExpunge", cport)
            self.assertEqual(ex["uidset"], str(uids[1]))
            self.assertEqual(ex["uri"], "%s/;UID=%d" % (
                self.mailbox_id(user, uidvalidity), uids[1]))
            self.assertEqual(ex["vnd.msgeventd.uidl"],
                             "%08x%08x" % (uids[1], uidvalidity))
            self.check_logout(cport, "graceful")

    def test_dele_rset_quit(self):
        """DELE, RSET, QUIT: the server removes nothing, nor is anything
        reported."""
        self.deliver("pop7", 2)
        p = self.pop(self.p_plain, "pop7")
        port = p.sock.getsockname()[1]
        p.dele(1)
        p.rset()
        p.quit()
        self.check_logout(port, "graceful")
        self.assertEqual(self.events("MessageExpunge", port), [])
        self.assertEqual(len(self.imap_state("pop7")[1]), 2)

    def test_dele_drop(self):
        """DELE, then the connection drops without QUIT: POP3 commits
        nothing, so nothing is reported; Logout says abort."""
        self.deliver("pop8", 2)
        c = self.raw(self.p_plain)
        self.login_raw(c, "pop8")
        self.cmd(c, "DELE 1")
        c.close()
        self.check_login(c.local_port, "pop8", self.p_plain)
        self.check_logout(c.local_port, "abort")
        self.assertEqual(self.events("MessageExpunge", c.local_port), [])
        harness.wait_until(lambda: len(self.imap_state("pop8")[1]) == 2,
                           what="Dovecot to keep both messages")

    # -- a POP3 expunge an IMAP session sees -----------------------------

    def check_imap_sees_pop3_expunge(self, user, pop_port, imap_port,
                                     with_uids):
        """An IMAP client through msgeventd (IMAP_PORT) idles in USER's
        INBOX while a POP3 client through the same msgeventd (POP_PORT)
        deletes two of three messages and quits; the IMAP client sees both
        EXPUNGEs.  Then: exactly one MessageExpunge for USER, the POP3
        session's (service pop), none with cause external."""
        self.deliver(user, 3)
        uidvalidity, uids = self.imap_state(user)
        with harness.RawClient(imap_port) as c:
            c.read_line()
            _, tagged = c.command("l", "LOGIN %s %s" % (user, USERS[user]))
            self.assertTrue(tagged.startswith(b"l OK"), tagged)
            _, tagged = c.command("s", "SELECT INBOX")
            self.assertTrue(tagged.startswith(b"s OK"), tagged)
            # msgeventd learns the UIDs of the messages it will see go
            _, tagged = c.command("u", "UID FETCH 1:* (UID)")
            self.assertTrue(tagged.startswith(b"u OK"), tagged)
            c.send(b"i IDLE\r\n")
            line = c.read_line()
            self.assertTrue(line.startswith(b"+"), line)

            p = self.pop(pop_port, user)
            pport = p.sock.getsockname()[1]
            p.dele(1)
            p.dele(3)
            p.quit()

            gone = 0
            while gone < 2:
                line = c.read_line()
                if re.match(rb"\* \d+ EXPUNGE\r\n", line):
                    gone += 1
            c.send(b"DONE\r\n")
            c.read_until_tagged("i")
            # a barrier: what the IMAP session emitted before its CREATE
            # has reached the collector once the MailboxCreate has
            name = "barrier-%s" % user
            _, tagged = c.command("b", "CREATE %s" % name)
            self.assertTrue(tagged.startswith(b"b OK"), tagged)
            self.rsyslog.wait_for(
                lambda recs: [r for r in recs
                              if r.get("msgid") == "MailboxCreate" and
                              event_params(r).get("mailboxID") ==
                              "imap://%s@%s/%s" % (user, SERVER_NAME, name)]
                or None, 10, "MailboxCreate %s" % name)
            c.command("o", "LOGOUT")
        ex = self.wait_event("MessageExpunge", pport)
        self.check_logout(pport, "graceful")
        expunges = [event_params(r) for r in self.rsyslog.records()
                    if r.get("msgid") == "MessageExpunge" and
                    event_params(r).get("user") == user]
        self.assertEqual(expunges, [ex])
        self.assertEqual(ex["service"], "pop")
        self.assertNotIn("vnd.msgeventd.cause", ex)
        self.assertEqual(ex["vnd.msgeventd.uidl"], "%08x%08x %08x%08x" % (
            uids[0], uidvalidity, uids[2], uidvalidity))
        if with_uids:
            self.assertEqual(ex["uidset"], "%d,%d" % (uids[0], uids[2]))
            self.assertEqual(ex["mailboxID"],
                             self.mailbox_id(user, uidvalidity))
        else:
            self.assertNotIn("uidset", ex)
        self.assertEqual(self.imap_state(user)[1], [uids[1]])

    def test_imap_idle_sees_pop3_expunge(self):
        """POP3 and IMAP through one msgeventd share its registry: the
        IMAP session that sees the POP3 session's removals does not report
        them again as an external MessageExpunge (pop3-uidl-pattern set:
        recorded by UID)."""
        self.check_imap_sees_pop3_expunge("pop16", self.p_plain, self.p_imap,
                                          True)

    def test_imap_idle_sees_pop3_expunge_no_pattern(self):
        """The same without pop3-uidl-pattern: the POP3 expunge has no
        UIDs, so INBOX's removals go blind for a while; the IMAP session
        reports no external MessageExpunge either."""
        p_pop, p_imap = harness.free_port(), harness.free_port()
        d = self.dovecot
        config = (
            "server-name %s\n" % SERVER_NAME +
            "listen pop3 %s:%d backend %s:%d\n"
            % (HOST, p_pop, HOST, d.pop3_port) +
            "listen imap %s:%d backend %s:%d\n"
            % (HOST, p_imap, HOST, d.imap_port) +
            "output syslog udp://%s:%d\n" % (HOST, self.rsyslog.udp_port))
        with harness.Msgeventd(config, [p_pop, p_imap]) as m:
            self.check_imap_sees_pop3_expunge("pop17", p_pop, p_imap, False)
            m.assert_alive()

    # -- msgeventd's own UIDL ----------------------------------------------

    def twin_session(self, port, user):
        """A client that never sends UIDL: STAT, LIST, RETR, DELEs
        (pipelined), NOOP, QUIT.  Returns everything it received after
        the greeting (whose APOP timestamp differs each time)."""
        c = self.raw(port)
        start = len(c.received)
        self.login_raw(c, user)
        self.cmd(c, "STAT")
        self.cmd(c, "LIST")
        self.multi(c)
        self.cmd(c, "RETR 2")
        self.multi(c)
        c.send(b"DELE 1\r\nDELE 3\r\nNOOP\r\n")
        for _ in range(3):
            self.assertTrue(c.read_line().startswith(b"+OK"))
        self.cmd(c, "QUIT")
        c.read_until_close()
        return bytes(c.received[start:]), c.local_port

    def test_invisible_uidl(self):
        """A client that never asked for UIDL deletes messages: msgeventd
        asks the server itself before each DELE, and the client sees
        byte for byte what a direct session on a twin mailbox sees; the
        expunge still names the unique-ids and UIDs."""
        twins = ("pop9", "pop10")
        for user in twins:
            c = self.dovecot.imap(user)
            for n in range(4):
                typ, _ = c.append("INBOX", None, DATE, message(n, "twin"))
                self.assertEqual(typ, "OK")
            c.logout()
            self.imap_expunge_first(user)
        direct, _ = self.twin_session(self.dovecot.pop3_port, twins[0])
        uidvalidity, uids = self.imap_state(twins[1])
        via, port = self.twin_session(self.p_plain, twins[1])
        self.assertEqual(via, direct)
        self.assertNotIn(b"UIDL", via)
        ex = self.wait_event("MessageExpunge", port)
        self.assertEqual(ex["uidset"], "%d,%d" % (uids[0], uids[2]))
        self.assertEqual(ex["vnd.msgeventd.uidl"], "%08x%08x %08x%08x" % (
            uids[0], uidvalidity, uids[2], uidvalidity))
        self.assertEqual(ex["mailboxID"],
                         self.mailbox_id(twins[1], uidvalidity))
        self.assertEqual(self.imap_state(twins[1])[1], [uids[1]])

    # -- TLS ---------------------------------------------------------------

    def test_stls(self):
        """STLS is msgeventd's: offered once in CAPA before TLS (Dovecot's
        own taken out), answered by msgeventd, what the client pipelined
        behind it discarded (an injected USER does not count), no longer
        offered inside TLS, refused a second time."""
        c = self.raw(self.p_plain)
        c.send(b"CAPA\r\n")
        self.assertEqual(c.read_line(), b"+OK\r\n")
        capa = self.multi(c)
        self.assertEqual(capa.count(b"STLS\r\n"), 1, capa)
        self.assertTrue(capa.endswith(b"STLS\r\n.\r\n"), capa)
        c.send(b"STLS\r\nUSER pop11\r\n")
        self.assertEqual(c.read_line(), b"+OK Begin TLS negotiation now\r\n")
        c.sock = self.ctx().wrap_socket(c.sock, server_hostname=HOST)
        c.send(b"CAPA\r\n")
        self.assertEqual(c.read_line(), b"+OK\r\n")
        self.assertNotIn(b"STLS", self.multi(c))
        self.assertEqual(self.cmd(c, "STLS", ok=False),
                         b"-ERR TLS is already active\r\n")
        # the USER smuggled before TLS was not executed
        self.assertEqual(self.cmd(c, "PASS " + USERS["pop11"], ok=None)[:4],
                         b"-ERR")
        self.login_raw(c, "pop11")
        self.cmd(c, "QUIT")
        c.read_until_close()
        self.check_login(c.local_port, "pop11", self.p_plain, tls=True)
        self.check_logout(c.local_port, "graceful")
        harness.wait_until(lambda: b"STLS: discarded 12 bytes" in
                           self.m.stderr(), what="the discard logged")

    def test_poplib_stls(self):
        """Python's poplib.stls(), as a mail client would use it."""
        self.deliver("pop12", 1)
        uids = self.imap_state("pop12")[1]
        p = self.pop(self.p_plain)
        port = p.sock.getsockname()[1]
        p.stls(context=self.ctx())
        self.assertNotIn("STLS", p.capa())
        p.user("pop12")
        p.pass_(USERS["pop12"])
        p.dele(1)
        p.quit()
        self.check_login(port, "pop12", self.p_plain, tls=True)
        self.assertEqual(self.wait_event("MessageExpunge", port)["uidset"],
                         str(uids[0]))
        self.check_logout(port, "graceful")

    def test_pop3s(self):
        """listen pop3s: implicit TLS; no STLS offered or accepted."""
        p = poplib.POP3_SSL(HOST, self.p_pop3s, context=self.ctx(),
                            timeout=10)
        port = p.sock.getsockname()[1]
        self.assertNotIn("STLS", p.capa())
        try:
            p._shortcmd("STLS")
            self.fail("STLS accepted inside TLS")
        except poplib.error_proto as e:
            self.assertIn(b"TLS is already active", e.args[0])
        p.user("pop13")
        p.pass_(USERS["pop13"])
        p.stat()
        p.quit()
        self.check_login(port, "pop13", self.p_pop3s, tls=True)
        self.check_logout(port, "graceful")

    def test_no_certificate(self):
        """Without tls-cert, STLS is neither offered nor passed to the
        backend (whose TLS would blind msgeventd): msgeventd says -ERR,
        and the session goes on.  With backend-queries off (and no
        pattern) msgeventd sends no UIDL of its own: an expunge whose
        unique-ids the client never asked for is reported without them,
        marked truncated."""
        self.deliver("pop14", 1)
        port = harness.free_port()
        m = harness.Msgeventd(
            "server-name %s\n" % SERVER_NAME + "backend-queries off\n" +
            "listen pop3 %s:%d backend %s:%d\n"
            % (HOST, port, HOST, self.dovecot.pop3_port) +
            "output syslog udp://%s:%d\n" % (HOST, self.rsyslog.udp_port),
            [port])
        m.start()
        self.addCleanup(m.stop)
        c = self.raw(port)
        c.send(b"CAPA\r\n")
        c.read_line()
        self.assertNotIn(b"STLS", self.multi(c))
        self.assertEqual(self.cmd(c, "STLS", ok=False),
                         b"-ERR msgeventd: STLS is not available here\r\n")
        self.login_raw(c, "pop14")
        self.cmd(c, "DELE 1")
        self.cmd(c, "QUIT")
        c.read_until_close()
        c.close()
        self.check_login(c.local_port, "pop14", port)
        ex = self.wait_event("MessageExpunge", c.local_port)
        self.assertEqual(ex.get("vnd.msgeventd.truncated"), "1")
        self.assertEqual(ex["mailboxID"],
                         "imap://pop14@%s/INBOX" % SERVER_NAME)
        self.assertNotIn("uidset", ex)
        self.assertNotIn("vnd.msgeventd.uidl", ex)
        self.check_logout(c.local_port, "graceful")
        harness.wait_until(lambda: b"1 expunged messages reported without "
                           b"their UIDL" in m.stderr(),
                           what="the unknown UIDL counted")

    # -- bad input ---------------------------------------------------------

    def test_garbage_and_long_lines(self):
        """Binary garbage leaves the session relayed blind, with a
        diagnostic; a line over 64 KiB ends that session with -ERR.  A
        session logged in meanwhile goes on untouched."""
        good = self.raw(self.p_plain)
        self.login_raw(good, "pop15")

        c = self.raw(self.p_plain)
        c.send(b"\x00\x01garbage\xff\r\n")
        self.assertTrue(c.read_line().startswith(b"-ERR"))
        self.cmd(c, "QUIT")
        c.read_until_close()
        harness.wait_until(lambda: b"cannot parse client data (BAD_CHAR)"
                           in self.m.stderr(), what="the garbage logged")

        fake = FakeBackend(send=b"+OK " + b"y" * 70000 + b"\r\n")
        self.addCleanup(fake.close)
        fake_client = FakeBackend()
        self.addCleanup(fake_client.close)
        port, port2 = harness.free_port(), harness.free_port()
        m = harness.Msgeventd(
            "listen pop3 %s:%d backend %s:%d\n"
            % (HOST, port, HOST, fake_client.port) +
            "listen pop3 %s:%d backend %s:%d\n"
            % (HOST, port2, HOST, fake.port), [port, port2])
        m.start()
        self.addCleanup(m.stop)
        # the client's over-long line
        c = self.raw(port)
        c.send(b"NOOP " + b"x" * 70000)
        rest = c.read_until_close()
        self.assertTrue(rest.endswith(b"-ERR msgeventd: command line "
                                      b"exceeds %d bytes\r\n" % LINE_MAX),
                        rest[-200:])
        # the server's over-long line
        c = harness.RawClient(port2)
        c.send(b"NOOP\r\n")
        rest = c.read_until_close()
        self.assertTrue(rest.startswith(b"+OK fake ready\r\n"))
        self.assertTrue(rest.endswith(b"-ERR msgeventd: response line "
                                      b"exceeds %d bytes\r\n" % LINE_MAX),
                        rest[-200:])
        self.assertLess(len(rest), 70000)
        m.assert_alive()
        err = m.stderr()
        self.assertIn(b"client line exceeds 65536 bytes; session ended", err)
        self.assertIn(b"server line exceeds 65536 bytes; session ended", err)

        self.cmd(good, "STAT")
        self.cmd(good, "QUIT")
        good.read_until_close()
        self.check_login(good.local_port, "pop15", self.p_plain)
        self.check_logout(good.local_port, "graceful")


if __name__ == "__main__":
    unittest.main()
