"""Quota events against a real Dovecot with the quota plugin.

Dovecot 2.3 counts each user's messages and storage (quota backend
"count", quota_vsizes) against one rule for every user: at most
QUOTA_MESSAGES messages and QUOTA_STORAGE_KIB KiB.  Its imap_quota plugin
answers GETQUOTAROOT with RFC 9208 QUOTA responses and refuses an APPEND
or COPY that would go over with "NO [OVERQUOTA] Quota exceeded".  The
sessions go through msgeventd, whose events reach rsyslog over TCP; each
test checks the quota events of its client port, in order, against what
Dovecot told the client:

    QuotaExceed   APPEND (synchronizing literal refused before its body,
                  LITERAL+ read whole), COPY: mailboxID of the mailbox
                  it would have filled; diskUsed, diskQuota, messages and
                  maxMessages only once the session read a QUOTA response
    QuotaWithin   the first QUOTA response under every limit after an
                  exceed, once
    QuotaChange   not exercised against Dovecot: its SETQUOTA needs the
                  quota_set dict setting and an admin user, and Dovecot
                  2.3.19's imap process dies (SIGSEGV) on SETQUOTA once
                  quota_set is configured (file: and proxy: dicts alike).
                  A refused SETQUOTA gives nothing (checked here); the
                  accepted one is covered by tests/transcripts/
                  quota-setquota.t.

MOVE is not refused for quota by Dovecot here: with one quota for the
whole user a move changes no usage (tests/transcripts/quota-copy.t has
the refused MOVE).
"""

import re
import time

import harness
from harness import HOST, event_params

SERVER_NAME = "mail.test.example"
QUOTA_MESSAGES = 3
QUOTA_STORAGE_KIB = 64
QUOTA_CONF = """\
# test_quota.py: one quota for every user, counted by Dovecot itself.
mail_plugins = $mail_plugins quota
protocol imap {
  mail_plugins = $mail_plugins imap_quota
}
plugin {
  quota = count:User quota
  quota_rule = *:storage=%dK:messages=%d
  quota_vsizes = yes
}
""" % (QUOTA_STORAGE_KIB, QUOTA_MESSAGES)

# Facility mail (2): severity notice (5) for QuotaExceed, info (6) else.
PRI_NOTICE = "21"
PRI_INFO = "22"
QUOTA_EVENTS = ("QuotaExceed", "QuotaWithin", "QuotaChange")
QUOTA_RE = re.compile(rb'^\* QUOTA (?:"[^"]*"|\S+) \(([^)]*)\)\r\n',
                      re.M | re.I)


def message(n, size=200):
    head = (b"From: carol@test.example\r\nTo: alice@test.example\r\n"
            b"Subject: quota test %d\r\n\r\n" % n)
    return head + b"x" * max(0, size - len(head) - 2) + b"\r\n"


def quota_values(data):
    """The values of the last QUOTA response in DATA, as msgeventd names
    them (RFC 5423 5: diskUsed/diskQuota in KiB, messages/maxMessages)."""
    found = QUOTA_RE.findall(data)
    if not found:
        raise AssertionError("no QUOTA response in %r" % data)
    words = found[-1].split()
    out = {}
    for i in range(0, len(words) - 2, 3):
        name, used, limit = words[i].upper(), words[i + 1], words[i + 2]
        if name == b"STORAGE":
            out["diskUsed"], out["diskQuota"] = used.decode(), limit.decode()
        elif name == b"MESSAGE":
            out["messages"], out["maxMessages"] = (used.decode(),
                                                   limit.decode())
    return out


class QuotaEvents(harness.DovecotRsyslogCase):
    """One Dovecot with quotas, one rsyslog, one msgeventd."""

    @classmethod
    def setUpClass(cls):
        cls.dovecot = harness.Dovecot(extra_config=QUOTA_CONF).start()
        try:
            cls.rsyslog = harness.Rsyslog().start()
            cls.port = harness.free_port()
            config = ("# test_quota.py\n"
                      "server-name %s\n"
                      "listen imap %s:%d backend %s:%d\n"
                      "output syslog tcp://%s:%d\n"
                      % (SERVER_NAME, HOST, cls.port, HOST,
                         cls.dovecot.imap_port, HOST, cls.rsyslog.tcp_port))
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

    # -- helpers -------------------------------------------------------------

    def login(self, user):
        c = harness.RawClient(self.port)
        self.assertTrue(c.read_line().startswith(b"* OK"))
        _, tagged = c.command("L1", "LOGIN %s %s"
                              % (user, harness.USERS[user]))
        self.assertTrue(tagged.startswith(b"L1 OK"), tagged)
        return c

    def ok(self, c, tag, text):
        out, tagged = c.command(tag, text)
        self.assertTrue(tagged.startswith(tag.encode() + b" OK"),
                        (text, tagged))
        return out

    def append_plus(self, c, tag, mailbox, data):
        """APPEND with a LITERAL+ literal; returns the tagged line."""
        c.send(b"%s APPEND %s {%d+}\r\n" % (tag.encode(), mailbox.encode(),
                                            len(data)) + data + b"\r\n")
        return c.read_until_tagged(tag)[1]

    def append_sync(self, c, tag, mailbox, data):
        """APPEND with a synchronizing literal: the body goes only after
        "+"; returns the tagged line (a refusal comes instead of "+")."""
        c.send(b"%s APPEND %s {%d}\r\n" % (tag.encode(), mailbox.encode(),
                                           len(data)))
        line = c.read_line()
        if line.startswith(b"+"):
            c.send(data + b"\r\n")
            return c.read_until_tagged(tag)[1]
        self.assertTrue(line.startswith(tag.encode() + b" "), line)
        return line

    def session_events(self, port):
        """The events of client PORT in arrival order, once its Logout is
        in: [(name, params, record)]."""
        def done(records):
            evs = [r for r in records
                   if event_params(r).get("clientPort") == str(port)]
            if any(r.get("msgid") == "Logout" for r in evs):
                return evs
            return None
        recs = self.rsyslog.wait_for(done, 10, "Logout of port %d" % port)
        return [(r.get("msgid"), event_params(r), r) for r in recs]

    def quota_events(self, port):
        return [(n, p, r) for n, p, r in self.session_events(port)
                if n in QUOTA_EVENTS]

    def check_exceed(self, ev, user, mailbox, values):
        name, p, rec = ev
        self.assertEqual(name, "QuotaExceed", p)
        self.assertEqual(rec["pri"], PRI_NOTICE, rec["raw"])
        self.assertEqual(p.get("user"), user, p)
        self.assertEqual(p.get("service"), "imap", p)
        self.assertEqual(p.get("mailboxID"), "imap://%s@%s/%s"
                         % (user, SERVER_NAME, mailbox), p)
        for k in ("diskUsed", "diskQuota", "messages", "maxMessages"):
            self.assertEqual(p.get(k), values.get(k), (k, p))

    def check_within(self, ev, user, values):
        name, p, rec = ev
        self.assertEqual(name, "QuotaWithin", p)
        self.assertEqual(rec["pri"], PRI_INFO, rec["raw"])
        self.assertEqual(p.get("user"), user, p)
        self.assertNotIn("mailboxID", p)
        for k in ("diskUsed", "diskQuota", "messages", "maxMessages"):
            self.assertEqual(p.get(k), values[k], (k, p))

    # -- tests -----------------------------------------------------------------

    def test_message_limit(self):
        """APPEND over the message limit, before and after GETQUOTAROOT;
        an expunge back under it; COPY over it."""
        c = self.login("alice")
        port = c.local_port
        for i in range(QUOTA_MESSAGES):
            tagged = self.append_plus(c, "A%d" % i, "INBOX", message(i))
            self.assertTrue(tagged.startswith(b"A%d OK" % i), tagged)
        # Over the limit, and no QUOTA response read yet: no values.
        tagged = self.append_plus(c, "B1", "INBOX", message(10))
        self.assertRegex(tagged, rb"^B1 NO \[OVERQUOTA\]")
        full = quota_values(self.ok(c, "B2", "GETQUOTAROOT INBOX"))
        self.assertEqual(full["messages"], str(QUOTA_MESSAGES), full)
        self.assertEqual(full["maxMessages"], str(QUOTA_MESSAGES), full)
        tagged = self.append_sync(c, "B3", "INBOX", message(11))
        self.assertRegex(tagged, rb"^B3 NO \[OVERQUOTA\]")
        # Still at the limit: no QuotaWithin.
        self.ok(c, "B4", "GETQUOTAROOT INBOX")
        # Back under it.
        self.ok(c, "C1", "SELECT INBOX")
        self.ok(c, "C2", "STORE 1 +FLAGS.SILENT (\\Deleted)")
        self.ok(c, "C3", "EXPUNGE")
        under = quota_values(self.ok(c, "C4", "GETQUOTAROOT INBOX"))
        self.assertEqual(under["messages"], str(QUOTA_MESSAGES - 1), under)
        # Once only.
        self.ok(c, "C5", "GETQUOTAROOT INBOX")
        # COPY over the limit: the destination is the mailbox named.
        self.ok(c, "D1", "CREATE Archive")
        _, tagged = c.command("D2", "COPY 1:2 Archive")
        self.assertRegex(tagged, rb"^D2 NO \[OVERQUOTA\]")
        self.ok(c, "D3", "LOGOUT")
        c.close()

        evs = self.quota_events(port)
        self.assertEqual([n for n, _, _ in evs],
                         ["QuotaExceed", "QuotaExceed", "QuotaWithin",
                          "QuotaExceed"], evs)
        self.check_exceed(evs[0], "alice", "INBOX", {})
        self.check_exceed(evs[1], "alice", "INBOX", full)
        self.check_within(evs[2], "alice", under)
        self.check_exceed(evs[3], "alice", "Archive", under)
        names = [n for n, _, _ in self.session_events(port)]
        # The refused APPENDs and the COPY stored nothing.
        self.assertEqual(names.count("MessageAppend"), QUOTA_MESSAGES, names)

    def test_storage_limit(self):
        """APPEND over the storage limit: the synchronizing literal is
        refused before its body, the LITERAL+ one after it; a refused
        SETQUOTA changes nothing."""
        c = self.login("bob")
        port = c.local_port
        values = quota_values(self.ok(c, "A1", "GETQUOTAROOT INBOX"))
        self.assertEqual(values["diskQuota"], str(QUOTA_STORAGE_KIB), values)
        big = message(1, (QUOTA_STORAGE_KIB + 16) * 1024)
        tagged = self.append_sync(c, "A2", "INBOX", big)
        self.assertRegex(tagged, rb"^A2 NO \[OVERQUOTA\]")
        self.ok(c, "A3a", 'CREATE "Sent Items"')
        tagged = self.append_plus(c, "A3", '"Sent Items"', big)
        self.assertRegex(tagged, rb"^A3 NO \[OVERQUOTA\]")
        # Dovecot lets only an admin set quotas (and needs quota_set).
        _, tagged = c.command("A4", 'SETQUOTA "User quota" (STORAGE 1024)')
        self.assertRegex(tagged, rb"^A4 (NO|BAD) ")
        self.ok(c, "A5", "LOGOUT")
        c.close()

        evs = self.quota_events(port)
        self.assertEqual([n for n, _, _ in evs],
                         ["QuotaExceed", "QuotaExceed"], evs)
        self.check_exceed(evs[0], "bob", "INBOX", values)
        self.check_exceed(evs[1], "bob", "Sent%20Items", values)
        self.assertNotIn("MessageAppend",
                         [n for n, _, _ in self.session_events(port)])
