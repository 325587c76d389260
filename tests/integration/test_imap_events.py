"""End to end: IMAP clients -> msgeventd -> Dovecot, events -> rsyslog.

msgeventd sends every event to rsyslog twice, over UDP and over TCP
(RFC 6587 octet counting); rsyslog parses each message as RFC 5424 and
its structured data with mmpstrucdata.  Every test drives a real client
(imaplib, or a raw socket where imaplib cannot) and waits for the events
it must cause on both transports, matched by the client's port.
"""

import base64
import re
import time
import unittest

import harness
from harness import HOST, SD_ID, event_params, meta_params

SERVER_NAME = "mail.test.example"
PASSWORDS = [pw.encode() for pw in harness.USERS.values()]
WRONG_PASSWORD = b"Wr0ng-Secr3t-pw"
TIMESTAMP_RE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$")
HEADER_TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
# Facility mail (2), severity info (6): 2 * 8 + 6.
PRI_INFO = "22"
INPUTS = ("imudp", "imtcp")
APPENDUID_RE = re.compile(rb"\[APPENDUID (\d+) (\d+)\]")


def secrets():
    """Byte strings that must never leave msgeventd: the passwords, and
    their SASL encodings."""
    out = list(PASSWORDS) + [WRONG_PASSWORD]
    for user, pw in harness.USERS.items():
        out.append(base64.b64encode(b"\0" + user.encode() + b"\0" +
                                    pw.encode()))
        out.append(base64.b64encode(pw.encode()))
    return out


class ImapEvents(unittest.TestCase):
    """One Dovecot, one rsyslog and one msgeventd for all tests here."""

    @classmethod
    def setUpClass(cls):
        cls.dovecot = harness.Dovecot().start()
        try:
            cls.rsyslog = harness.Rsyslog().start()
            cls.port = harness.free_port()
            config = (
                "# test_imap_events.py\n"
                "server-name %s\n"
                "listen imap %s:%d backend %s:%d\n"
                "output syslog udp://%s:%d\n"
                "output syslog tcp://%s:%d\n"
                % (SERVER_NAME, HOST, cls.port, HOST, cls.dovecot.imap_port,
                   HOST, cls.rsyslog.udp_port, HOST, cls.rsyslog.tcp_port))
            cls.msgeventd = harness.Msgeventd(config, [cls.port]).start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if getattr(cls, "msgeventd", None):
                cls.msgeventd.stop()
        finally:
            if getattr(cls, "rsyslog", None):
                cls.rsyslog.stop()
            cls.dovecot.stop()

    def tearDown(self):
        self.msgeventd.assert_alive()

    # -- helpers -----------------------------------------------------------

    def imap(self):
        return harness.imap_connect(self.port)

    def raw(self):
        c = harness.RawClient(self.port)
        greeting = c.read_line()
        self.assertTrue(greeting.startswith(b"* OK"), greeting)
        return c

    def raw_login(self, user="alice"):
        c = self.raw()
        _, tagged = c.command("L1", "LOGIN %s %s"
                              % (user, harness.USERS[user]))
        self.assertTrue(tagged.startswith(b"L1 OK"), tagged)
        return c

    def events(self, name, port, records=None):
        """{input: [params]} of the events NAME for client port PORT."""
        if records is None:
            records = self.rsyslog.records()
        out = {i: [] for i in INPUTS}
        for rec in records:
            p = event_params(rec)
            if rec.get("msgid") == name and p.get("clientPort") == str(port):
                out.setdefault(rec.get("input"), []).append(rec)
        return out

    def wait_event(self, name, port, count=1, match=None, timeout=10):
        """Wait until each transport delivered COUNT events NAME for
        client port PORT (those MATCH(params) accepts, if given); return
        the params of the first one (the same on both transports)."""
        def ready(records):
            ev = self.events(name, port, records)
            if match:
                ev = {i: [r for r in rs if match(event_params(r))]
                      for i, rs in ev.items()}
            if all(len(ev[i]) >= count for i in INPUTS):
                return ev
            return None
        try:
            ev = self.rsyslog.wait_for(ready, timeout,
                                       "%s for client port %s" % (name, port))
        except AssertionError:
            self.fail("no %s event for client port %s on both transports; "
                      "received:\n%s" % (name, port, self.summary()))
        for i in INPUTS:
            self.assertEqual(len(ev[i]), count,
                             "%s over %s: %r" % (name, i, ev[i]))
        udp = [event_params(r) for r in ev["imudp"]]
        tcp = [event_params(r) for r in ev["imtcp"]]
        self.assertEqual(udp, tcp, "UDP and TCP carry different events")
        for rec in ev["imudp"] + ev["imtcp"]:
            self.check_record(rec, name)
        return udp[0] if count == 1 else udp

    def summary(self):
        lines = []
        for rec in self.rsyslog.records():
            lines.append("  %s %s %s" % (rec.get("input"), rec.get("msgid"),
                                         event_params(rec)))
        return "\n".join(lines) or "  (nothing)"

    def check_record(self, rec, name):
        """The RFC 5424 header fields of one received message."""
        self.assertEqual(rec["protocolVersion"], "1", rec["raw"])
        self.assertEqual(rec["appName"], "msgeventd", rec["raw"])
        self.assertEqual(rec["msgid"], name, rec["raw"])
        self.assertEqual(rec["pri"], PRI_INFO, rec["raw"])
        self.assertTrue(rec["hostname"] and rec["hostname"] != "-",
                        rec["raw"])
        self.assertRegex(rec["procid"], r"^\d+$")
        # HEADER TIMESTAMP: UTC with microseconds.
        header_time = rec["raw"].split(" ", 2)[1]
        self.assertRegex(header_time, HEADER_TIME_RE)
        self.assertIn(SD_ID, rec["sd"], rec["raw"])

    def check_common(self, p, user, port):
        """Parameters every event of an IMAP session carries."""
        self.assertEqual(p.get("user"), user, p)
        self.assertEqual(p.get("clientIP"), "127.0.0.1", p)
        self.assertEqual(p.get("clientPort"), str(port), p)
        self.assertEqual(p.get("service"), "imap", p)
        self.assertEqual(p.get("serverFQDN"), SERVER_NAME, p)
        self.assertRegex(p.get("timestamp", ""), TIMESTAMP_RE)
        self.assertRegex(p.get("vnd.msgeventd.session", ""), r"^\d+$")
        self.assertNotIn("admin", p)

    def check_server(self, p):
        """serverDomain and serverPort: what the client connected to."""
        self.assertIn(p.get("serverDomain"), (SERVER_NAME, "127.0.0.1"), p)
        self.assertEqual(p.get("serverPort"), str(self.port), p)

    def mailbox_id(self, user, name, uidvalidity=None):
        s = "imap://%s@%s/%s" % (user, SERVER_NAME, name)
        if uidvalidity is not None:
            s += ";UIDVALIDITY=%s" % uidvalidity
        return s

    def assert_mailbox_id(self, value, user, name):
        """A mailbox URL (RFC 5092), UIDVALIDITY optional."""
        self.assertRegex(value or "", "^%s(;UIDVALIDITY=[1-9][0-9]*)?$"
                         % re.escape(self.mailbox_id(user, name)))

    def check_login_logout(self, port, user, reason, mechanism=None):
        login = self.wait_event("Login", port)
        self.check_common(login, user, port)
        self.check_server(login)
        if mechanism:
            self.assertEqual(
                login.get("vnd.msgeventd.mechanism", "").upper(), mechanism)
        logout = self.wait_event("Logout", port)
        self.check_common(logout, user, port)
        self.check_server(logout)
        self.assertEqual(logout.get("vnd.msgeventd.reason"), reason, logout)
        self.assertRegex(logout.get("vnd.msgeventd.duration", ""), r"^\d+$")
        self.assertEqual(login["vnd.msgeventd.session"],
                         logout["vnd.msgeventd.session"])
        return login, logout

    # -- access accounting -------------------------------------------------

    def test_login_logout(self):
        start = time.monotonic()
        c = self.imap()
        port = harness.client_port(c)
        c.login("alice", harness.USERS["alice"])
        # Not synchronisation: a session long enough to tell
        # milliseconds from seconds and microseconds in its duration.
        time.sleep(0.3)
        c.noop()
        c.logout()
        elapsed_ms = (time.monotonic() - start) * 1000
        _, logout = self.check_login_logout(port, "alice", "graceful")
        duration = int(logout["vnd.msgeventd.duration"])
        self.assertGreaterEqual(duration, 300, logout)
        self.assertLessEqual(duration, elapsed_ms + 50, logout)

    def test_authenticate_plain(self):
        c = self.imap()
        port = harness.client_port(c)
        typ, _ = c.authenticate(
            "PLAIN", lambda _: b"\0bob\0" + harness.USERS["bob"].encode())
        self.assertEqual(typ, "OK")
        c.logout()
        self.check_login_logout(port, "bob", "graceful", mechanism="PLAIN")

    def test_authenticate_plain_initial_response(self):
        # RFC 4959 SASL-IR: the credentials on the command line itself.
        c = self.raw()
        ir = base64.b64encode(b"\0bob\0" + harness.USERS["bob"].encode())
        _, tagged = c.command("A1", b"AUTHENTICATE PLAIN " + ir)
        self.assertTrue(tagged.startswith(b"A1 OK"), tagged)
        _, tagged = c.command("A2", "LOGOUT")
        self.assertTrue(tagged.startswith(b"A2 OK"), tagged)
        c.close()
        self.check_login_logout(c.local_port, "bob", "graceful",
                                mechanism="PLAIN")

    def test_authenticate_login(self):
        c = self.raw()
        c.send(b"A1 AUTHENTICATE LOGIN\r\n")
        self.assertTrue(c.read_line().startswith(b"+ "))
        c.send(base64.b64encode(b"alice") + b"\r\n")
        self.assertTrue(c.read_line().startswith(b"+ "))
        c.send(base64.b64encode(harness.USERS["alice"].encode()) + b"\r\n")
        _, tagged = c.read_until_tagged("A1")
        self.assertTrue(tagged.startswith(b"A1 OK"), tagged)
        _, tagged = c.command("A2", "LOGOUT")
        c.close()
        self.check_login_logout(c.local_port, "alice", "graceful",
                                mechanism="LOGIN")

    def test_login_failure(self):
        c = self.imap()
        port = harness.client_port(c)
        with self.assertRaises(c.error) as cm:
            c.login("alice", WRONG_PASSWORD.decode())
        self.assertIn("AUTHENTICATIONFAILED", str(cm.exception))
        c.logout()
        p = self.wait_event("vnd.msgeventd.LoginFailure", port)
        self.assertEqual(p.get("user"), "alice", p)
        self.assertEqual(p.get("clientIP"), "127.0.0.1", p)
        self.assertEqual(p.get("clientPort"), str(port), p)
        self.assertEqual(p.get("service"), "imap", p)
        self.assertEqual(p.get("vnd.msgeventd.responseCode"),
                         "AUTHENTICATIONFAILED", p)
        self.assertRegex(p.get("timestamp", ""), TIMESTAMP_RE)
        # Nobody logged in: neither Login nor Logout for this client.
        self.bystander_login()
        for name in ("Login", "Logout"):
            ev = self.events(name, port)
            self.assertEqual(ev["imudp"] + ev["imtcp"], [], name)

    def test_authenticate_failure(self):
        c = self.raw()
        ir = base64.b64encode(b"\0bob\0" + WRONG_PASSWORD)
        _, tagged = c.command("A1", b"AUTHENTICATE PLAIN " + ir)
        self.assertTrue(tagged.startswith(b"A1 NO"), tagged)
        c.command("A2", "LOGOUT")
        c.close()
        p = self.wait_event("vnd.msgeventd.LoginFailure", c.local_port)
        self.assertEqual(p.get("user"), "bob", p)
        self.assertEqual(p.get("vnd.msgeventd.responseCode"),
                         "AUTHENTICATIONFAILED", p)

    def bystander_login(self):
        """Log in and out on another connection; its events arriving
        means everything sent before them has arrived too (TCP keeps
        order, and UDP on loopback does in practice)."""
        c = self.imap()
        port = harness.client_port(c)
        c.login("bob", harness.USERS["bob"])
        c.logout()
        self.wait_event("Logout", port)
        return port

    def test_dropped_connection(self):
        c = self.raw_login("alice")
        _, tagged = c.command("D1", "NOOP")
        self.assertTrue(tagged.startswith(b"D1 OK"), tagged)
        c.close()       # no LOGOUT
        self.check_login_logout(c.local_port, "alice", "abort")

    def test_reset_connection(self):
        c = self.raw_login("bob")
        c.abort()       # TCP RST
        self.check_login_logout(c.local_port, "bob", "abort")

    # -- mailbox management ------------------------------------------------

    def test_mailbox_management(self):
        c = self.imap()
        port = harness.client_port(c)
        c.login("alice", harness.USERS["alice"])
        self.assertEqual(c.create("Projects")[0], "OK")
        # A failing command causes no event.
        self.assertEqual(c.create("Projects")[0], "NO")
        self.assertEqual(c.subscribe("Projects")[0], "OK")
        self.assertEqual(c.rename("Projects", "Archive")[0], "OK")
        self.assertEqual(c.unsubscribe("Projects")[0], "OK")
        self.assertEqual(c.delete("Archive")[0], "OK")
        self.assertEqual(c.delete("Archive")[0], "NO")
        c.logout()

        p = self.wait_event("MailboxCreate", port)
        self.check_common(p, "alice", port)
        self.assert_mailbox_id(p.get("mailboxID"), "alice", "Projects")

        p = self.wait_event("MailboxSubscribe", port)
        self.check_common(p, "alice", port)
        self.assert_mailbox_id(p.get("mailboxID"), "alice", "Projects")

        p = self.wait_event("MailboxRename", port)
        self.check_common(p, "alice", port)
        self.assert_mailbox_id(p.get("oldMailboxID"), "alice", "Projects")
        self.assert_mailbox_id(p.get("mailboxID"), "alice", "Archive")

        p = self.wait_event("MailboxUnSubscribe", port)
        self.check_common(p, "alice", port)
        self.assert_mailbox_id(p.get("mailboxID"), "alice", "Projects")

        p = self.wait_event("MailboxDelete", port)
        self.check_common(p, "alice", port)
        self.assert_mailbox_id(p.get("mailboxID"), "alice", "Archive")

        self.check_login_logout(port, "alice", "graceful")

    def test_mailbox_name_in_url_is_percent_encoded(self):
        # RFC 5092: a space is not an "achar"; it is written %20.
        c = self.imap()
        port = harness.client_port(c)
        c.login("bob", harness.USERS["bob"])
        self.assertEqual(c.create('"Old Stuff"')[0], "OK")
        self.assertEqual(c.delete('"Old Stuff"')[0], "OK")
        c.logout()
        p = self.wait_event("MailboxCreate", port)
        self.assert_mailbox_id(p.get("mailboxID"), "bob", "Old%20Stuff")
        p = self.wait_event("MailboxDelete", port)
        self.assert_mailbox_id(p.get("mailboxID"), "bob", "Old%20Stuff")

    # -- messages ------------------------------------------------------------

    def check_append(self, p, user, port, mailbox, resp, size, flags):
        m = APPENDUID_RE.search(resp)
        self.assertTrue(m, "Dovecot sent no APPENDUID: %r" % resp)
        uidvalidity, uid = m.group(1).decode(), m.group(2).decode()
        self.check_common(p, user, port)
        self.assertEqual(p.get("mailboxID"),
                         self.mailbox_id(user, mailbox, uidvalidity), p)
        self.assertEqual(p.get("uidset"), uid, p)
        self.assertEqual(p.get("messageSize"), str(size), p)
        if flags is None:
            self.assertIn(p.get("flagNames", ""), ("",), p)
        else:
            self.assertEqual(p.get("flagNames"), flags, p)
        if "uri" in p:
            self.assertEqual(p["uri"], "%s/;UID=%s" % (
                self.mailbox_id(user, mailbox, uidvalidity), uid), p)

    def test_append_synchronizing_literal(self):
        msg = (b"From: carol@test.example\r\nTo: alice@test.example\r\n"
               b"Subject: synchronizing\r\n\r\nHello Alice.\r\n")
        c = self.imap()
        port = harness.client_port(c)
        c.login("alice", harness.USERS["alice"])
        typ, data = c.append("INBOX", r"(\Seen)", None, msg)
        self.assertEqual(typ, "OK")
        c.logout()
        p = self.wait_event("MessageAppend", port)
        self.check_append(p, "alice", port, "INBOX", data[0], len(msg),
                          "\\Seen")

    def test_append_literal_plus(self):
        msg = (b"From: dave@test.example\r\nSubject: LITERAL+\r\n\r\n" +
               b"x" * 3000 + b"\r\n")
        c = self.raw_login("alice")
        c.send(b"P1 APPEND INBOX (\\Seen) {%d+}\r\n" % len(msg) + msg +
               b"\r\n")
        _, tagged = c.read_until_tagged("P1")
        self.assertTrue(tagged.startswith(b"P1 OK"), tagged)
        c.command("P2", "LOGOUT")
        c.close()
        p = self.wait_event("MessageAppend", c.local_port)
        self.check_append(p, "alice", c.local_port, "INBOX", tagged,
                          len(msg), "\\Seen")

    def test_append_refused_literal(self):
        # Dovecot refuses to append to a mailbox that does not exist: it
        # answers the command with NO instead of "+", no event follows,
        # and the session goes on.
        c = self.raw_login("bob")
        c.send(b"R1 APPEND NoSuchBox {20}\r\n")
        resp = c.read_line()
        self.assertTrue(resp.startswith(b"R1 NO"), resp)
        msg = b"Subject: after\r\n\r\nok\r\n"
        c.send(b"R2 APPEND INBOX {%d}\r\n" % len(msg))
        self.assertTrue(c.read_line().startswith(b"+"))
        c.send(msg + b"\r\n")
        _, tagged = c.read_until_tagged("R2")
        self.assertTrue(tagged.startswith(b"R2 OK"), tagged)
        c.command("R3", "LOGOUT")
        c.close()
        p = self.wait_event("MessageAppend", c.local_port)
        self.check_append(p, "bob", c.local_port, "INBOX", tagged, len(msg),
                          None)

    # -- what rsyslog received, all tests together -------------------------

    def test_zz_all_messages(self):
        """Runs last (name order): checks everything received so far."""
        self.bystander_login()
        records = self.rsyslog.wait_for(
            lambda rs: (len([r for r in rs if r["input"] == "imudp"]) ==
                        len([r for r in rs if r["input"] == "imtcp"]) and
                        rs), what="as many UDP as TCP messages")
        for rec in records:
            # RFC 5424 with our structured data, nothing else.
            self.assertEqual(rec["protocolVersion"], "1", rec["raw"])
            self.assertNotEqual(rec["structuredData"], "-", rec["raw"])
            self.assertIn(SD_ID, rec["sd"], rec["raw"])
            self.assertIn("meta", rec["sd"], rec["raw"])
            self.check_record(rec, rec["msgid"])
        for inp in INPUTS:
            seq = [int(meta_params(r)["sequenceId"]) for r in records
                   if r["input"] == inp]
            # A fresh msgeventd: 1, 2, 3... per output, no gaps.
            self.assertEqual(sorted(seq), list(range(1, len(seq) + 1)), inp)
            if inp == "imtcp":
                self.assertEqual(seq, sorted(seq), "TCP reordered")
        # Each event went to both outputs.
        def key(r):
            return (r["msgid"], sorted(event_params(r).items()))
        self.assertEqual(
            sorted(key(r) for r in records if r["input"] == "imudp"),
            sorted(key(r) for r in records if r["input"] == "imtcp"))

        received = self.rsyslog.raw_bytes()
        stderr = self.msgeventd.stderr()
        for s in secrets():
            self.assertNotIn(s, received, "a secret reached syslog")
            self.assertNotIn(s, stderr, "a secret reached stderr")


if __name__ == "__main__":
    unittest.main()
