"""End to end: IMAP clients -> msgeventd -> Dovecot, events -> snmptrapd.

A real snmptrapd in the foreground (harness.Snmptrapd) decodes every
notification with mibs/MSGEVENT-MIB.txt and logs names and values; the
tests drive real IMAP sessions through msgeventd and check what it
decoded: SNMPv2c traps and informs (acknowledged by snmptrapd), SNMPv3
authPriv traps (sent with msgeventd's own engine ID, which persists in
state-dir with its boots counter) and informs (the receiver's engine ID
discovered first).  Receivers that are down or never acknowledge must
not slow the relay, and their losses are counted in msgeventd's log.
No secret may appear in any log.
"""

import base64
import os
import re
import signal
import socket
import time
import unittest

import harness
from harness import HOST

SERVER_NAME = "mail.test.example"
COMMUNITY = "c0mmunity-x"
# SNMPv3 users: (name, auth, auth pass, priv, priv pass).
V3_TRAP_USERS = [
    ("mev", "SHA", "Auth-Secr3t-one", "AES", "Priv-Secr3t-one"),
    ("mev256", "SHA-256", "Auth-Secr3t-two", "AES-256", "Priv-Secr3t-two"),
]
V3_INFORM_USER = ("mevi", "SHA", "Auth-Secr3t-three", "AES",
                  "Priv-Secr3t-three")
PASS_PHRASES = [u[2].encode() for u in V3_TRAP_USERS + [V3_INFORM_USER]] + \
    [u[4].encode() for u in V3_TRAP_USERS + [V3_INFORM_USER]]
PASSWORDS = [pw.encode() for pw in harness.USERS.values()]
APPENDUID_RE = re.compile(rb"\[APPENDUID (\d+) (\d+)\]")
# The variable bindings every notification starts with (MIB DESCRIPTION).
LEADING = ["SNMPv2-MIB::sysUpTime.0", "SNMPv2-MIB::snmpTrapOID.0",
           "MSGEVENT-MIB::msgEvUser.0", "MSGEVENT-MIB::msgEvClientIPType.0",
           "MSGEVENT-MIB::msgEvClientIP.0", "MSGEVENT-MIB::msgEvClientPort.0",
           "MSGEVENT-MIB::msgEvService.0", "MSGEVENT-MIB::msgEvServerFQDN.0",
           "MSGEVENT-MIB::msgEvTimestamp.0"]
# The sub-identifiers of the other objects, for the order check.
SUBIDS = {"msgEvAdmin": 8, "msgEvServerDomain": 9, "msgEvServerPort": 10,
          "msgEvUri": 11, "msgEvMailboxID": 12, "msgEvOldMailboxID": 13,
          "msgEvUidset": 14, "msgEvUidnext": 15, "msgEvModseq": 16,
          "msgEvMessages": 17, "msgEvMessageSize": 18,
          "msgEvFlagNames": 19, "msgEvMechanism": 101, "msgEvReason": 102,
          "msgEvCause": 103, "msgEvDuration": 104,
          "msgEvResponseCode": 105, "msgEvSession": 109,
          "msgEvTruncated": 200}
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2},\d{1,2}:\d{1,2}:\d{1,2}"
                          r"\.\d,\+0:0$")


def read_state(state_dir):
    """(engine ID "0x...", boots) from msgeventd's state file."""
    with open(os.path.join(state_dir, "snmp-engine")) as f:
        text = f.read()
    engine = re.search(r"^engine-id (0x[0-9a-f]+)$", text, re.M).group(1)
    boots = int(re.search(r"^boots (\d+)$", text, re.M).group(1))
    return engine, boots


class Snmp(unittest.TestCase):
    """One Dovecot and one snmptrapd for all tests; each test starts a
    msgeventd with the outputs it needs, all sharing one state-dir."""

    @classmethod
    def setUpClass(cls):
        cls.dovecot = harness.Dovecot().start()
        cls.trapd = None
        try:
            cls.state_tmp = harness._Service()   # a temp dir, removed later
            cls.state_dir = cls.state_tmp.path("state")
            # A first start makes the engine ID (and boots 1); the
            # receiver must know it for v3 traps (createUser -e).
            port = harness.free_port()
            with harness.Msgeventd(cls.config(port, [
                    cls.v3_line("trap", harness.free_port(socket.SOCK_DGRAM),
                                V3_TRAP_USERS[0])]), [port]) as m:
                pass
            assert b"SNMPv3 engine ID 0x80007ed905" in m.final_stderr, \
                m.final_stderr
            cls.engine, boots = read_state(cls.state_dir)
            assert boots == 1, boots
            users = [u + (cls.engine,) for u in V3_TRAP_USERS]
            users.append(V3_INFORM_USER + (None,))
            cls.trapd = harness.Snmptrapd(COMMUNITY, users).start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if getattr(cls, "trapd", None):
                cls.trapd.stop()
        finally:
            cls.dovecot.stop()
            if getattr(cls, "state_tmp", None):
                cls.state_tmp.stop()

    # -- helpers -----------------------------------------------------------

    @classmethod
    def config(cls, port, outputs, extra=""):
        return ("# test_snmp.py\n"
                "server-name %s\n"
                "state-dir %s\n"
                "listen imap %s:%d backend %s:%d\n"
                "%s%s" % (SERVER_NAME, cls.state_dir, HOST, port, HOST,
                          cls.dovecot.imap_port, extra,
                          "".join(o + "\n" for o in outputs)))

    @staticmethod
    def v2c_line(kind, port):
        return "output snmp %s udp:%s:%d version 2c community %s" % (
            kind, HOST, port, COMMUNITY)

    @staticmethod
    def v3_line(kind, port, user):
        name, auth, apass, priv, ppass = user
        return ("output snmp %s udp:%s:%d version 3 user %s auth %s %s "
                "priv %s %s" % (kind, HOST, port, name, auth, apass, priv,
                                ppass))

    def msgeventd(self, outputs, extra=""):
        port = harness.free_port()
        m = harness.Msgeventd(self.config(port, outputs, extra), [port])
        m.start()
        # Tests stop it themselves to read its last words; else this.
        self.addCleanup(lambda: m.exit_status is None and m.stop())
        m.imap_port = port
        return m

    def session(self, port, box="INBOX"):
        """Login, APPEND, LOGOUT through msgeventd; returns (client port,
        APPENDUID's UIDVALIDITY and UID)."""
        c = harness.imap_connect(port)
        cport = harness.client_port(c)
        c.login("alice", harness.USERS["alice"])
        typ, data = c.append(box, None, None,
                             b"Subject: snmp\r\n\r\nhello\r\n")
        self.assertEqual(typ, "OK", data)
        m = APPENDUID_RE.search(data[0])
        self.assertIsNotNone(m, data)
        c.logout()
        return cport, m.group(1).decode(), m.group(2).decode()

    def notifications(self, cport, security=None, records=None):
        """{notification name: [records]} for client port CPORT (and the
        security string's start, if given)."""
        out = {}
        for rec in records if records is not None else self.trapd.records():
            if rec["values"].get("msgEvClientPort") != str(cport):
                continue
            if security and not rec["security"].startswith(security):
                continue
            out.setdefault(rec["trap"], []).append(rec)
        return out

    def wait_events(self, cport, names, security=None, timeout=10):
        def ready(records):
            got = self.notifications(cport, security, records)
            return got if all(n in got for n in names) else None
        try:
            return self.trapd.wait_for(ready, timeout, "%s for port %s" % (
                names, cport))
        except AssertionError:
            self.fail("no %s (%s) for client port %s; snmptrapd logged:\n%s"
                      % (names, security, cport, self.trapd.text()[-4000:]))

    def check_order(self, rec):
        """sysUpTime.0, snmpTrapOID.0, the OBJECTS, then the rest in
        ascending sub-identifier order (the MIB's DESCRIPTION)."""
        names = [v[0] for v in rec["vars"]]
        self.assertEqual(names[:len(LEADING)], LEADING, rec)
        rest = [n.split("::")[1][:-2] for n in names[len(LEADING):]]
        self.assertEqual(rest, sorted(rest, key=lambda n: SUBIDS[n]), rec)
        self.assertEqual(rec["values"]["msgEvClientIPType"], "ipv4(1)")
        self.assertEqual(rec["values"]["msgEvClientIP"].split(),
                         ["7F", "00", "00", "01"])
        self.assertEqual(rec["values"]["msgEvService"], "imap")
        self.assertEqual(rec["values"]["msgEvServerFQDN"], SERVER_NAME)
        self.assertRegex(rec["values"]["msgEvTimestamp"], TIMESTAMP_RE)

    def check_session(self, got, cport, uidvalidity, uid):
        login = got["MSGEVENT-MIB::msgEventLogin"][0]["values"]
        self.assertEqual(login["msgEvUser"], "alice")
        self.assertEqual(login["msgEvServerDomain"], SERVER_NAME)
        app = got["MSGEVENT-MIB::msgEventMessageAppend"][0]
        v = app["values"]
        self.assertEqual(v["msgEvUser"], "alice")
        box = "imap://alice@%s/INBOX;UIDVALIDITY=%s" % (SERVER_NAME,
                                                        uidvalidity)
        self.assertEqual(v["msgEvMailboxID"], box)
        self.assertEqual(v["msgEvUidset"], uid)
        self.assertEqual(v["msgEvUri"], box + "/;UID=" + uid)
        self.assertNotIn("msgEvTruncated", v)
        self.assertEqual(got["MSGEVENT-MIB::msgEventLogout"][0]["values"]
                         ["msgEvReason"], "graceful")
        for recs in got.values():
            for rec in recs:
                self.check_order(rec)
                self.assertEqual(rec["values"]["msgEvSession"],
                                 login["msgEvSession"])

    def check_no_secrets(self, m):
        logs = [m.stderr(), self.trapd.text().encode()]
        for secret in PASSWORDS + PASS_PHRASES:
            for log in logs:
                self.assertNotIn(secret, log)
        # The community is a secret of msgeventd's too (snmptrapd shows
        # what it received, so it is only looked for in msgeventd's log).
        self.assertNotIn(COMMUNITY.encode(), m.stderr())

    # -- tests ---------------------------------------------------------------

    def v2c_case(self, kind, security):
        """A session through msgeventd with one v2c output of KIND: its
        three events decoded and checked; returns msgeventd, stopped,
        and the client port."""
        m = self.msgeventd([self.v2c_line(kind, self.trapd.port)])
        cport, uidvalidity, uid = self.session(m.imap_port)
        got = self.wait_events(cport, [
            "MSGEVENT-MIB::msgEventLogin",
            "MSGEVENT-MIB::msgEventMessageAppend",
            "MSGEVENT-MIB::msgEventLogout"], security)
        self.check_session(got, cport, uidvalidity, uid)
        m.stop()
        self.check_no_secrets(m)
        return m, cport

    def test_v2c_trap(self):
        m, _ = self.v2c_case("trap", "TRAP2, SNMP v2c")
        self.assertIn(b"closed; 3 sent, 0 dropped", m.stderr())

    def test_v2c_inform_acknowledged(self):
        m, cport = self.v2c_case("inform", "INFORM, SNMP v2c")
        # snmptrapd acknowledged every one: nothing retried, nothing lost.
        self.assertIn(b"closed; 3 sent and acknowledged, 0 dropped "
                      b"(0 not acknowledged)", m.stderr())
        self.assertEqual(len(self.notifications(cport, "INFORM")[
            "MSGEVENT-MIB::msgEventMessageAppend"]), 1)

    def test_v3_authpriv_trap(self):
        _, boots = read_state(self.state_dir)
        m = self.msgeventd([self.v3_line("trap", self.trapd.port, u)
                            for u in V3_TRAP_USERS])
        # Every start counts one boot more, and says so.
        self.assertEqual(read_state(self.state_dir), (self.engine, boots + 1))
        self.assertIn(("SNMPv3 engine ID %s, boots %d" % (
            self.engine, boots + 1)).encode(), m.stderr())
        cport, uidvalidity, uid = self.session(m.imap_port)
        for user in V3_TRAP_USERS:
            got = self.wait_events(cport, [
                "MSGEVENT-MIB::msgEventLogin",
                "MSGEVENT-MIB::msgEventMessageAppend",
                "MSGEVENT-MIB::msgEventLogout"],
                "TRAP2, SNMP v3, user %s," % user[0])
            self.check_session(got, cport, uidvalidity, uid)
        m.stop()
        self.check_no_secrets(m)
        self.assertNotIn("Authentication failed", self.trapd.text())

    def test_v3_inform(self):
        m = self.msgeventd([self.v3_line("inform", self.trapd.port,
                                         V3_INFORM_USER)])
        cport, uidvalidity, uid = self.session(m.imap_port)
        got = self.wait_events(cport, [
            "MSGEVENT-MIB::msgEventLogin",
            "MSGEVENT-MIB::msgEventMessageAppend",
            "MSGEVENT-MIB::msgEventLogout"], "INFORM, SNMP v3, user mevi,")
        self.check_session(got, cport, uidvalidity, uid)
        self.assertIn(b"receiver's SNMPv3 engine ID 0x", m.stderr())
        m.stop()
        self.check_no_secrets(m)
        self.assertIn(b"closed; 3 sent and acknowledged, 0 dropped",
                      m.stderr())

    def test_engine_persists_across_restarts(self):
        """A receiver drops v3 traps whose boots went backwards: the
        counter must grow with every start, with the same engine ID, and
        the traps of each run must get through."""
        line = self.v3_line("trap", self.trapd.port, V3_TRAP_USERS[0])
        for _ in range(2):
            _, boots = read_state(self.state_dir)
            m = self.msgeventd([line])
            self.assertEqual(read_state(self.state_dir),
                             (self.engine, boots + 1))
            cport, _, _ = self.session(m.imap_port)
            self.wait_events(cport, ["MSGEVENT-MIB::msgEventLogout"],
                             "TRAP2, SNMP v3, user mev,")
            m.stop()

    def test_reload(self):
        """SIGHUP replaces the outputs: the new ones send, the engine is
        the same and its boots do not count a reload as a start."""
        v3 = self.v3_line("trap", self.trapd.port, V3_TRAP_USERS[0])
        m = self.msgeventd([v3])
        state = read_state(self.state_dir)
        cport, _, _ = self.session(m.imap_port)
        self.wait_events(cport, ["MSGEVENT-MIB::msgEventLogout"],
                         "TRAP2, SNMP v3, user mev,")
        with open(m.conf, "w") as f:
            f.write(self.config(m.imap_port, [
                v3, self.v2c_line("inform", self.trapd.port)]))
        m.proc.send_signal(signal.SIGHUP)
        harness.wait_until(lambda: b"configuration reloaded" in m.stderr(),
                           10, what="the reload")
        self.assertEqual(read_state(self.state_dir), state)
        cport, _, _ = self.session(m.imap_port)
        for security in ("TRAP2, SNMP v3, user mev,", "INFORM, SNMP v2c"):
            self.wait_events(cport, ["MSGEVENT-MIB::msgEventLogout"],
                             security)
        self.assertNotIn("Authentication failed", self.trapd.text())
        m.stop()
        # The first v3 output closed at the reload, the second at exit.
        self.assertEqual(m.stderr().count(b"output snmp trap udp:"), 2)

    def test_truncated(self):
        """A notification that would exceed snmp-max-size: its longest
        texts are cut, it is marked, and it still decodes, v2c and v3."""
        m = self.msgeventd([self.v2c_line("trap", self.trapd.port),
                            self.v3_line("trap", self.trapd.port,
                                         V3_TRAP_USERS[0])],
                           "snmp-max-size 1024\n")
        c = harness.imap_connect(m.imap_port)
        cport = harness.client_port(c)
        c.login("alice", harness.USERS["alice"])
        # 80 times U+00E9 in modified UTF-7 (RFC 3501 5.1.3): one base64
        # run of UTF-16BE, ',' for '/'.  In the URLs each is "%C3%A9":
        # msgEvUri and msgEvMailboxID take some 500 octets each.
        name = "&" + base64.b64encode("\u00e9".encode("utf-16-be") *
                                      80).decode().rstrip("=").replace(
                                          "/", ",") + "-"
        typ, data = c.create(name)
        self.assertEqual(typ, "OK", data)
        c.logout()
        full = "imap://alice@%s/%s" % (SERVER_NAME, "%C3%A9" * 80)
        for security in ("TRAP2, SNMP v2c", "TRAP2, SNMP v3, user mev,"):
            got = self.wait_events(cport,
                                   ["MSGEVENT-MIB::msgEventMailboxCreate"],
                                   security)
            rec = got["MSGEVENT-MIB::msgEventMailboxCreate"][0]
            v = rec["values"]
            self.assertEqual(v["msgEvTruncated"], "true(1)")
            box = v["msgEvMailboxID"]
            self.assertTrue(full.startswith(box), box)
            self.assertLess(len(box), len(full))
            self.assertGreater(len(box), 100)
            self.check_order(rec)
            self.assertEqual(rec["vars"][-1][0],
                             "MSGEVENT-MIB::msgEvTruncated.0")
            # The logout, short, was not cut.
            got = self.wait_events(cport, ["MSGEVENT-MIB::msgEventLogout"],
                                   security)
            self.assertNotIn("msgEvTruncated", got[
                "MSGEVENT-MIB::msgEventLogout"][0]["values"])
        self.assertNotIn("Authentication failed", self.trapd.text())
        m.stop()
        self.assertIn(b"3 sent, 0 dropped, 1 truncated", m.stderr())

    def relay_works(self, m, events=5):
        """IMAP sessions through M complete promptly while its SNMP
        receivers are of no help; returns the client ports."""
        ports = []
        for _ in range(events):
            t0 = time.monotonic()
            ports.append(self.session(m.imap_port)[0])
            # Three events each; a blocked loop would wait for
            # timeouts of a second or more.
            self.assertLess(time.monotonic() - t0, 2.0)
        m.assert_alive()
        return ports

    def test_receiver_down(self):
        """Nobody listens: informs are retried, then counted as not
        acknowledged; traps go out into the void; the relay goes on."""
        dead = harness.free_port(socket.SOCK_DGRAM)
        m = self.msgeventd([self.v2c_line("inform", dead),
                            self.v2c_line("trap", dead),
                            self.v3_line("inform", dead, V3_INFORM_USER)],
                           "snmp-inform-retries 1\n"
                           "snmp-inform-timeout 100\n")
        self.relay_works(m)
        harness.wait_until(
            lambda: b"inform not acknowledged" in m.stderr(), 10,
            what="the loss to be logged")
        self.assertIn(b"SNMPv3 engine ID discovery: no answer; retrying, "
                      b"informs queue meanwhile", m.stderr())
        m.stop()
        err = m.stderr()
        # 5 sessions of 3 events: every inform lost, and counted.
        self.assertIn(b"output snmp inform udp:127.0.0.1:%d: closed; 0 sent "
                      b"and acknowledged, 15 dropped (15 not acknowledged)"
                      % dead, err)
        # The v3 one never learnt the receiver's engine ID: its informs
        # waited in the queue, and are counted as dropped at the end.
        self.assertIn(b"output snmp inform udp:127.0.0.1:%d: closed; 0 sent "
                      b"and acknowledged, 15 dropped (0 not acknowledged)"
                      % dead, err)
        self.assertIn(b"output snmp trap udp:127.0.0.1:%d: closed; 15 sent, "
                      b"0 dropped" % dead, err)
        self.check_no_secrets(m)

    def test_receiver_never_acknowledges(self):
        """A receiver that swallows informs: each is sent 1 + retries
        times, then counted and logged as not acknowledged."""
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sink.close)
        sink.bind((HOST, 0))
        sink.setblocking(False)
        port = sink.getsockname()[1]
        m = self.msgeventd([self.v2c_line("inform", port)],
                           "snmp-inform-retries 2\n"
                           "snmp-inform-timeout 50\n")
        self.relay_works(m, 3)
        harness.wait_until(
            lambda: b"inform not acknowledged" in m.stderr(), 10,
            what="the loss to be logged")
        received = []

        def drained():
            while True:
                try:
                    received.append(sink.recv(65536))
                except BlockingIOError:
                    return len(received) >= 9 * 3
        harness.wait_until(drained, 10, what="9 informs sent 3 times each")
        m.stop()
        self.assertIn(b"closed; 0 sent and acknowledged, 9 dropped (9 "
                      b"not acknowledged)", m.stderr())
        self.assertEqual(len(received), 27)
        self.assertIn(b"events dropped, ", m.stderr())


if __name__ == "__main__":
    unittest.main()
