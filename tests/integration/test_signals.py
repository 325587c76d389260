"""Signals: SIGHUP reloads, SIGTERM/SIGINT stop.

    SIGHUP   read the configuration again; if good: new listeners open,
             removed ones close, outputs are replaced, names and limits
             apply to new sessions, established sessions are untouched.
             If bad: the error is logged (FILE:LINE) and the running
             configuration stays, all of it.
    SIGTERM  stop accepting, let sessions finish for shutdown-grace
             seconds, end the rest (Logout, reason abort), flush every
             output, exit 0.

One Dovecot and one rsyslog serve the whole file; each test starts its
own msgeventd, since every test changes its state for good.
"""

import os
import re
import signal
import socket
import subprocess
import time
import unittest

import harness
from harness import HOST, event_params, meta_params

OLD_NAME = "old.test.example"
NEW_NAME = "new.test.example"
INPUTS = ("imudp", "imtcp")


class Daemon(harness.Msgeventd):
    """A Msgeventd that the test may also stop itself, with a signal, and
    whose exit it then waits for and judges (wait_exit)."""

    exited = False
    signalled = False

    def signal(self, sig):
        self.assert_alive()
        if sig in (signal.SIGTERM, signal.SIGINT):
            self.signalled = True
        self.proc.send_signal(sig)

    def wait_exit(self, timeout):
        """Wait up to TIMEOUT s for msgeventd to exit on its own; returns
        the exit status.  AssertionError (after SIGKILL) if it does not."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("msgeventd did not exit within %.1f s; "
                                 "stderr:\n%s" % (timeout,
                                                  self.stderr().decode(
                                                      "utf-8", "replace")))
        finally:
            self._reaped()
        return self.proc.returncode

    def _reaped(self):
        with open(self.stderr_file, "rb") as f:
            self.final_stderr = f.read()
        self.exit_status = self.proc.returncode
        self.exited = True
        if self.proc in harness._LIVE:
            harness._LIVE.remove(self.proc)

    def stop(self):
        if not self.exited and self.signalled and self.proc.poll() is not None:
            # Stopped by the test's signal, and the test failed before it
            # judged the exit: that failure is the one to report.
            self._reaped()
        if self.exited:
            self._cleanup_tmp()
            return self.exit_status
        return super().stop()

    def reconfigure(self, text):
        """Replace the configuration file (atomically)."""
        tmp = self.conf + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.conf)

    def stderr_text(self):
        return self.stderr().decode("utf-8", "replace")

    def wait_stderr(self, regex, count=1, timeout=10):
        """Wait until stderr has COUNT lines matching REGEX; returns them."""
        def found():
            self.assert_alive()
            lines = [l for l in self.stderr_text().splitlines()
                     if re.search(regex, l)]
            return lines if len(lines) >= count else None
        return harness.wait_until(found, timeout,
                                  what="msgeventd to log %r" % regex)


class Signals(harness.DovecotRsyslogCase):

    # -- helpers -----------------------------------------------------------

    def outputs(self, udp=True, tcp=True):
        out = ""
        if udp:
            out += "output syslog udp://%s:%d\n" % (HOST,
                                                     self.rsyslog.udp_port)
        if tcp:
            out += "output syslog tcp://%s:%d\n" % (HOST,
                                                     self.rsyslog.tcp_port)
        return out

    def start(self, config, ports):
        m = Daemon(config, ports)
        self.addCleanup(m.stop)
        m.start()
        return m

    def wait_event(self, name, port, inputs=INPUTS, match=None, count=1,
                   timeout=10):
        """Wait until every one of INPUTS delivered COUNT events NAME for
        client port PORT (those MATCH(params) accepts); returns
        {input: [params, ...]}."""
        def ready(records):
            got = {i: [] for i in inputs}
            for r in records:
                p = event_params(r)
                if (r.get("msgid") == name and r.get("input") in got and
                        p.get("clientPort") == str(port) and
                        (match is None or match(p))):
                    got[r["input"]].append(p)
            return got if all(len(v) >= count for v in got.values()) \
                else None
        return self.rsyslog.wait_for(ready, timeout, "%s for client port %s "
                                     "on %s" % (name, port, inputs))

    def raw_login(self, port, user="alice"):
        c = harness.RawClient(port)
        self.addCleanup(c.close)
        greeting = c.read_line()
        self.assertTrue(greeting.startswith(b"* OK"), greeting)
        _, tagged = c.command("L1", "LOGIN %s %s"
                              % (user, harness.USERS[user]))
        self.assertTrue(tagged.startswith(b"L1 OK"), tagged)
        return c

    def raw_ok(self, c, tag, text):
        _, tagged = c.command(tag, text)
        self.assertTrue(tagged.startswith(tag.encode() + b" OK"), tagged)
        return tagged

    def raw_append(self, c, tag, body):
        """A synchronizing APPEND; returns the UID from APPENDUID."""
        c.send(b"%s APPEND INBOX {%d}\r\n" % (tag.encode(), len(body)))
        cont = c.read_line()
        self.assertTrue(cont.startswith(b"+"), cont)
        c.send(body + b"\r\n")
        _, tagged = c.read_until_tagged(tag)
        self.assertTrue(tagged.startswith(tag.encode() + b" OK"), tagged)
        m = re.search(rb"\[APPENDUID \d+ (\d+)\]", tagged)
        self.assertTrue(m, tagged)
        return m.group(1).decode()

    def full_session(self, port, user="bob", inputs=INPUTS):
        """LOGIN, APPEND, LOGOUT through PORT with imaplib; waits for the
        events and returns {name: params (the first input's)}."""
        c = harness.imap_connect(port)
        self.addCleanup(c.sock.close)
        cport = harness.client_port(c)
        c.login(user, harness.USERS[user])
        msg = b"Subject: signals\r\n\r\nbody\r\n"
        self.assertEqual(c.append("INBOX", None, None, msg)[0], "OK")
        self.assertEqual(c.logout()[0], "BYE")
        out = {}
        for name in ("Login", "MessageAppend", "Logout"):
            ev = self.wait_event(name, cport, inputs)
            out[name] = ev[inputs[0]][0]
        self.assertEqual(out["MessageAppend"].get("messageSize"),
                         str(len(msg)))
        self.assertEqual(out["Logout"].get("vnd.msgeventd.reason"),
                         "graceful")
        return out

    # -- SIGHUP ------------------------------------------------------------

    def test_reload_adds_and_removes_listeners(self):
        keep, gone, new = (harness.free_port() for _ in range(3))
        m = self.start("server-name %s\n" % OLD_NAME + self.listen(keep) +
                       self.listen(gone) + self.outputs(tcp=False),
                       [keep, gone])
        self.assertFalse(harness.port_listening(new))

        # Sessions established before the reload, on the listener that
        # stays and on the one that goes.
        s1 = self.raw_login(keep, "alice")
        s2 = self.raw_login(gone, "bob")
        self.wait_event("Login", s1.local_port, ("imudp",))
        self.wait_event("Login", s2.local_port, ("imudp",))

        # New: a listener, a server name, a TCP output; gone: a listener.
        m.reconfigure("server-name %s\n" % NEW_NAME + self.listen(keep) +
                      self.listen(new) + self.outputs())
        m.signal(signal.SIGHUP)
        m.wait_stderr(r"configuration reloaded")
        harness.wait_until(lambda: harness.port_listening(new), 5,
                           what="the new listener")
        harness.wait_until(lambda: not harness.port_listening(gone), 5,
                           what="the removed listener to close")
        self.assertFalse(harness.port_accepts(gone),
                         "the removed listener still accepts")
        self.assertTrue(harness.port_listening(keep))

        # The established sessions go on as they were, and their events
        # go to the new outputs (TCP is new) with the old names.
        self.raw_ok(s1, "N1", "NOOP")
        uid = self.raw_append(s1, "A1", b"Subject: across a reload\r\n\r\n"
                              b"still here\r\n")
        ev = self.wait_event("MessageAppend", s1.local_port)
        for params in ev.values():
            self.assertEqual(params[0].get("uidset"), uid)
            self.assertEqual(params[0].get("serverFQDN"), OLD_NAME,
                             "an established session took the new name")
            self.assertEqual(params[0].get("user"), "alice")
        self.raw_ok(s2, "N2", "NOOP")
        s2.command("Z2", "LOGOUT")
        ev = self.wait_event("Logout", s2.local_port)
        self.assertEqual(ev["imtcp"][0].get("vnd.msgeventd.reason"),
                         "graceful")
        self.assertEqual(ev["imtcp"][0].get("serverPort"), str(gone))

        # The new listener relays; its sessions have the new name.
        out = self.full_session(new)
        self.assertEqual(out["Login"].get("serverPort"), str(new))
        self.assertEqual(out["Login"].get("serverFQDN"), NEW_NAME)
        # And the kept listener serves new sessions with the new name.
        out = self.full_session(keep)
        self.assertEqual(out["Login"].get("serverFQDN"), NEW_NAME)

        self.raw_ok(s1, "Z1", "LOGOUT")
        ev = self.wait_event("Logout", s1.local_port)
        self.assertEqual(ev["imtcp"][0].get("vnd.msgeventd.reason"),
                         "graceful")
        m.assert_alive()

    def test_reload_bad_config_keeps_running(self):
        port, extra = harness.free_port(), harness.free_port()
        good = "server-name %s\n" % OLD_NAME + self.listen(port) + \
            self.outputs()
        m = self.start(good, [port])
        s1 = self.raw_login(port, "alice")

        # Bad on line 5; the lines before it would change a lot.
        m.reconfigure("server-name %s\n" % NEW_NAME + self.listen(port) +
                      self.listen(extra) + "# the next line is wrong\n"
                      "bogus-directive 1\n" + self.outputs())
        m.signal(signal.SIGHUP)
        line = m.wait_stderr(r"reload")[0]
        self.assertIn("error", line)
        self.assertIn("%s:5: unknown directive 'bogus-directive'" % m.conf,
                      line)
        self.assertIn("keeping the running configuration", line)
        self.assertNotIn("configuration reloaded", m.stderr_text())
        m.assert_alive()
        self.assertFalse(harness.port_listening(extra),
                         "a listener of the rejected configuration opened")

        # Everything as before: the old session, new sessions, old name.
        self.raw_ok(s1, "N1", "NOOP")
        out = self.full_session(port)
        self.assertEqual(out["Login"].get("serverFQDN"), OLD_NAME)
        self.raw_ok(s1, "Z1", "LOGOUT")
        self.wait_event("Logout", s1.local_port)

        # A good configuration after the bad one is taken.
        m.reconfigure(good + self.listen(extra))
        m.signal(signal.SIGHUP)
        m.wait_stderr(r"configuration reloaded")
        harness.wait_until(lambda: harness.port_listening(extra), 5,
                           what="the listener of the good configuration")
        self.full_session(extra)

    def test_reload_failing_listen_changes_nothing(self):
        """A configuration that parses but cannot be applied (a listen
        port someone else holds) is refused as a whole: the listener it
        shares with the running configuration keeps its backend."""
        port = harness.free_port()
        dead_backend = harness.free_port()     # nobody listens there
        m = self.start("server-name %s\n" % OLD_NAME + self.listen(port) +
                       self.outputs(), [port])
        with socket_listening() as busy:
            m.reconfigure("server-name %s\n" % NEW_NAME +
                          self.listen(port, backend=dead_backend) +
                          self.listen(busy) + self.outputs())
            m.signal(signal.SIGHUP)
            line = m.wait_stderr(r"reload")[0]
        self.assertRegex(line, r"error: .*%s:%d.*[Aa]ddress already in use"
                         % (re.escape(HOST), busy))
        self.assertIn("keeping the running configuration", line)
        self.assertNotIn("configuration reloaded", m.stderr_text())
        # The running configuration's backend, not the refused one's.
        c = harness.RawClient(port)
        self.addCleanup(c.close)
        greeting = c.read_line()
        self.assertTrue(greeting.startswith(b"* OK"),
                        "the refused configuration's backend is in use: "
                        "greeting %r" % greeting)
        c.close()
        out = self.full_session(port)
        self.assertEqual(out["Login"].get("serverFQDN"), OLD_NAME)

    def test_reload_changes_backend_for_new_sessions(self):
        """A good reload that gives a kept listener another backend
        applies it to new sessions only (the counterpart of
        test_reload_failing_listen_changes_nothing).  Dovecot's POP3 port
        stands in for another server: its greeting is '+OK'."""
        port = harness.free_port()
        m = self.start(self.listen(port) + self.outputs(), [port])
        s1 = self.raw_login(port, "alice")
        m.reconfigure(self.listen(port, backend=self.dovecot.pop3_port) +
                      self.outputs())
        m.signal(signal.SIGHUP)
        m.wait_stderr(r"configuration reloaded")
        c = harness.RawClient(port)
        self.addCleanup(c.close)
        greeting = c.read_line()
        self.assertTrue(greeting.startswith(b"+OK"), greeting)
        c.close()
        self.raw_ok(s1, "N1", "NOOP")
        self.raw_ok(s1, "Z1", "LOGOUT")
        self.wait_event("Logout", s1.local_port)

    # -- SIGTERM / SIGINT --------------------------------------------------

    def test_sigterm_session_ends_within_grace(self):
        """A session that ends during the grace period lets msgeventd
        exit then, not at the end of the grace period."""
        port = harness.free_port()
        m = self.start("shutdown-grace 30\n" + self.listen(port) +
                       self.outputs(), [port])
        c = self.raw_login(port, "alice")
        m.signal(signal.SIGTERM)
        harness.wait_until(lambda: not harness.port_listening(port), 1.0,
                           what="the listener to close on SIGTERM")
        self.raw_ok(c, "N1", "NOOP")
        self.raw_ok(c, "Z1", "LOGOUT")
        t0 = time.monotonic()
        c.read_until_close(5)
        c.close()
        self.assertEqual(m.wait_exit(5), 0, m.stderr_text())
        self.assertLess(time.monotonic() - t0, 1.5)
        ev = self.wait_event("Logout", c.local_port, timeout=5)
        for params in ev.values():
            self.assertEqual(params[0].get("vnd.msgeventd.reason"),
                             "graceful")


    def test_sigterm_with_open_session(self):
        grace = 2
        port = harness.free_port()
        m = self.start("shutdown-grace %d\n" % grace + self.listen(port) +
                       self.outputs(), [port])
        c = self.raw_login(port, "alice")
        self.wait_event("Login", c.local_port)

        m.signal(signal.SIGTERM)
        t0 = time.monotonic()
        # No new sessions, at once ...
        harness.wait_until(lambda: not harness.port_listening(port), 1.0,
                           what="the listener to close on SIGTERM")
        self.assertFalse(harness.port_accepts(port))
        # ... while the open one goes on during the grace period.
        self.raw_ok(c, "N1", "NOOP")
        self.assertTrue(m.alive())

        rc = m.wait_exit(grace + 3)
        elapsed = time.monotonic() - t0
        self.assertEqual(rc, 0, m.stderr_text())
        self.assertGreaterEqual(elapsed, grace - 0.2,
                                "exited before the grace period was over "
                                "with a session open")
        self.assertLess(elapsed, grace + 1.5,
                        "took %.2f s for a grace of %d s" % (elapsed, grace))
        # The client was let go.
        c.read_until_close(5)

        # The Logout of the ended session was flushed before the exit.
        ev = self.wait_event("Logout", c.local_port, timeout=5)
        for params in ev.values():
            self.assertEqual(params[0].get("vnd.msgeventd.reason"), "abort")
            self.assertEqual(params[0].get("user"), "alice")
        self.assertNotRegex(m.stderr_text(), r"could not be sent|"
                            r"still queued|dropped")

    def test_sigterm_without_sessions_flushes_everything(self):
        port = harness.free_port()
        # A long grace: with no session open it must not be waited for.
        m = self.start("shutdown-grace 30\n" + self.listen(port) +
                       self.outputs(), [port])
        c = self.raw_login(port, "alice")
        # A burst of events, and SIGTERM right behind it: whatever the
        # outputs still hold must go out before the exit.
        n = 40
        for i in range(n):
            self.raw_ok(c, "C%d" % i, "CREATE burst%d" % i)
            self.raw_ok(c, "D%d" % i, "DELETE burst%d" % i)
        self.raw_ok(c, "Z1", "LOGOUT")
        c.read_until_close(5)
        c.close()
        m.signal(signal.SIGTERM)
        t0 = time.monotonic()
        rc = m.wait_exit(3)
        elapsed = time.monotonic() - t0
        self.assertEqual(rc, 0, m.stderr_text())
        self.assertLess(elapsed, 1.5, "no session was open, yet it took "
                        "%.2f s to exit" % elapsed)

        total = 2 * n + 2           # Login, creates, deletes, Logout
        want = (["Login"] + ["MailboxCreate", "MailboxDelete"] * n +
                ["Logout"])

        def complete(records):
            mine = {i: [] for i in INPUTS}
            for r in records:
                if (event_params(r).get("clientPort") ==
                        str(c.local_port) and r.get("input") in mine):
                    mine[r["input"]].append(r)
            return mine if all(len(v) >= total for v in mine.values()) \
                else None
        got = self.rsyslog.wait_for(complete, 10, "all %d events on both "
                                    "transports" % total)
        for inp, recs in got.items():
            self.assertEqual(len(recs), total, inp)
            self.assertEqual(sorted(int(meta_params(r)["sequenceId"])
                                    for r in recs),
                             list(range(1, total + 1)), inp)
            recs.sort(key=lambda r: int(meta_params(r)["sequenceId"]))
            self.assertEqual([r["msgid"] for r in recs], want, inp)
        self.assertNotRegex(m.stderr_text(), r"could not be sent|"
                            r"still queued|dropped")

    def test_sigterm_flushes_events_queued_for_a_collector(self):
        """Events queued for a TCP collector that was down go out at
        exit, when it is back: the collector comes up just as SIGTERM is
        sent, and gets every event, in order."""
        port = harness.free_port()
        with LateCollector() as collector:
            m = self.start("shutdown-grace 30\n" + self.listen(port) +
                           "output syslog tcp://%s:%d\n" % (HOST,
                                                             collector.port),
                           [port])
            c = self.raw_login(port, "alice")
            n = 40
            for i in range(n):
                self.raw_ok(c, "C%d" % i, "CREATE late%d" % i)
                self.raw_ok(c, "D%d" % i, "DELETE late%d" % i)
            self.raw_ok(c, "Z1", "LOGOUT")
            c.read_until_close(5)
            c.close()
            m.wait_stderr(r"output tcp://%s:%d: connect" % (
                re.escape(HOST), collector.port))
            collector.listen()
            m.signal(signal.SIGTERM)
            data = collector.read_all(5)    # until msgeventd closes
            self.assertEqual(m.wait_exit(5), 0, m.stderr_text())

        total = 2 * n + 2
        msgs = octet_counted(data)
        seq = [int(re.search(rb'\[meta sequenceId="(\d+)"\]', msg).group(1))
               for msg in msgs]
        self.assertEqual(seq, list(range(1, total + 1)))
        names = [msg.split(b" ")[5].decode() for msg in msgs]
        self.assertEqual(names, ["Login"] + ["MailboxCreate",
                                             "MailboxDelete"] * n +
                         ["Logout"])
        self.assertNotRegex(m.stderr_text(), r"could not be sent|"
                            r"still queued|dropped")

    def test_sigint_without_sessions(self):
        port = harness.free_port()
        m = self.start("shutdown-grace 30\n" + self.listen(port) +
                       self.outputs(), [port])
        m.signal(signal.SIGINT)
        t0 = time.monotonic()
        self.assertEqual(m.wait_exit(3), 0, m.stderr_text())
        self.assertLess(time.monotonic() - t0, 1.5)
        self.assertFalse(harness.port_listening(port))


def octet_counted(data):
    """Split RFC 6587 octet-counted frames; the data must end at a frame
    boundary."""
    msgs = []
    i = 0
    while i < len(data):
        sp = data.index(b" ", i)
        n = int(data[i:sp])
        msgs.append(data[sp + 1:sp + 1 + n])
        if len(msgs[-1]) != n:
            raise AssertionError("truncated frame at offset %d" % i)
        i = sp + 1 + n
    return msgs


class LateCollector:
    """A TCP syslog collector whose port is reserved (bound) at once, so
    connections to it are refused, and which listens only when told."""

    def __init__(self):
        self.lsock = socket.socket()
        self.lsock.bind((HOST, 0))
        self.port = self.lsock.getsockname()[1]
        self.conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.conn is not None:
            self.conn.close()
        self.lsock.close()
        return False

    def listen(self):
        self.lsock.listen(4)

    def read_all(self, timeout):
        """Accept one connection and read it until the sender closes it."""
        deadline = time.monotonic() + timeout
        self.lsock.settimeout(timeout)
        try:
            self.conn, _ = self.lsock.accept()
        except TimeoutError:
            raise AssertionError("no connection to the collector within "
                                 "%s s" % timeout) from None
        out = bytearray()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("collector connection not closed "
                                     "within %s s" % timeout)
            self.conn.settimeout(left)
            try:
                data = self.conn.recv(65536)
            except TimeoutError:
                continue
            if not data:
                return bytes(out)
            out += data


class socket_listening:
    """A TCP port on HOST that a socket of this process listens on (so
    nobody else can bind it); the context value is the port."""

    def __enter__(self):
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(1)
        return self.sock.getsockname()[1]

    def __exit__(self, *exc):
        self.sock.close()
        return False


if __name__ == "__main__":
    unittest.main()
