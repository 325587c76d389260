"""Syslog over TLS (RFC 5425): output syslog tls://HOST:PORT [ca PATH].

The collector is Python's ssl module in a thread, with a certificate from
test_tls's throwaway PKI (openssl CLI, in a temporary directory).  It
reads RFC 6587 octet-counted frames and keeps each message.  Events come
from IMAP logins through msgeventd to a plain Dovecot.
"""

import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from harness import HOST
from test_tls import Pki

PASSWORD = harness.USERS["alice"]
RFC5424_RE = re.compile(
    r"^<(\d{1,3})>1 (\S+) (\S+) msgeventd (\S+) (\S+) (\[.*\]|-)(?: (.*))?$",
    re.S)


class Collector:
    """A TLS syslog collector on PORT (0: a free one) with CHAIN/KEY."""

    def __init__(self, chain, key, port=0):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(chain, key)
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((HOST, port))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]
        self.messages = []
        self.errors = []
        self.conns = []
        self.handshakes = 0
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopping:
            try:
                raw, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,),
                             daemon=True).start()

    def _serve(self, raw):
        raw.settimeout(30)
        try:
            s = self.ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as e:
            with self.lock:
                self.errors.append(str(e))
            raw.close()
            return
        with self.lock:
            self.handshakes += 1
            self.conns.append(s)
        buf = b""
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    break
                buf += data
                while True:
                    sp = buf.find(b" ")
                    if sp < 0:
                        break
                    n = int(buf[:sp])
                    if len(buf) < sp + 1 + n:
                        break
                    with self.lock:
                        self.messages.append(buf[sp + 1:sp + 1 + n].decode())
                    buf = buf[sp + 1 + n:]
        except (ssl.SSLError, OSError, ValueError) as e:
            with self.lock:
                self.errors.append(str(e))
        finally:
            s.close()

    def records(self):
        with self.lock:
            return list(self.messages)

    def stop(self):
        self.stopping = True
        try:
            # Wakes the accept(): close() alone would leave it listening.
            self.lsock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.lsock.close()
        with self.lock:
            for s in self.conns:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
        self.thread.join(5)


def parse(msg):
    m = RFC5424_RE.match(msg)
    if m is None:
        raise AssertionError("not RFC 5424: %r" % msg)
    return {"msgid": m.group(5), "sd": m.group(6)}


class SyslogTls(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mev-stls-")
        try:
            cls.pki = Pki(cls.tmp)
            cls.dovecot = harness.Dovecot().start()
        except BaseException:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.dovecot.stop()
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def collector(self, port=0):
        c = Collector(self.pki.chain, self.pki.key, port)
        self.addCleanup(c.stop)
        return c

    def msgeventd(self, output):
        port = harness.free_port()
        config = ("listen imap %s:%d backend %s:%d\n%s\n" % (
            HOST, port, HOST, self.dovecot.imap_port, output))
        m = harness.Msgeventd(config, (port,))
        m.start()
        self.addCleanup(m.stop)
        return m, port

    def login(self, port):
        c = harness.imap_connect(port)
        cport = str(harness.client_port(c))
        c.login("alice", PASSWORD)
        c.logout()
        return cport

    def logins_of(self, collector, cport):
        return [m for m in collector.records()
                if parse(m)["msgid"] == "Login" and
                'clientPort="%s"' % cport in m]

    def wait_login(self, collector, cport, timeout=10):
        harness.wait_until(lambda: self.logins_of(collector, cport),
                           timeout, what="Login over TLS for %s" % cport)

    def test_events_arrive_framed(self):
        col = self.collector()
        m, port = self.msgeventd("output syslog tls://127.0.0.1:%d ca %s"
                                 % (col.port, self.pki.ca))
        cport = self.login(port)
        self.wait_login(col, cport)
        harness.wait_until(
            lambda: any(parse(x)["msgid"] == "Logout" and
                        'clientPort="%s"' % cport in x
                        for x in col.records()), 10, what="Logout")
        for msg in col.records():
            p = parse(msg)
            self.assertTrue(p["sd"].startswith("[msgevent@32473 "), msg)
        self.assertEqual(col.errors, [])

    def test_name_by_host(self):
        # "localhost" is checked against DNS:localhost and sent as SNI.
        col = self.collector()
        m, port = self.msgeventd("output syslog tls://localhost:%d ca %s"
                                 % (col.port, self.pki.ca))
        self.wait_login(col, self.login(port))

    def test_wrong_ca_gets_nothing(self):
        col = self.collector()
        m, port = self.msgeventd("output syslog tls://127.0.0.1:%d ca %s"
                                 % (col.port, self.pki.wrong_ca))
        self.login(port)
        harness.wait_until(
            lambda: b"certificate verify failed" in m.stderr(), 10,
            what="the verification failure logged")
        self.login(port)
        time.sleep(1.5)         # a few retries
        self.assertEqual(col.records(), [])
        self.assertGreaterEqual(len(col.errors), 1)
        err = m.stderr().decode()
        line = [x for x in err.splitlines() if "verify failed" in x]
        self.assertIn("TLS handshake failed, nothing sent", line[0])
        # Once per outage while the reason stays the same.
        self.assertEqual(len(line), 1, err)
        m.assert_alive()

    def test_collector_down_and_back(self):
        col = self.collector()
        m, port = self.msgeventd("output syslog tls://127.0.0.1:%d ca %s"
                                 % (col.port, self.pki.ca))
        self.wait_login(col, self.login(port))
        cport_port = col.port
        col.stop()
        # The first send may still go into the dying connection; the
        # output notices the close and queues.
        down = self.login(port)
        harness.wait_until(lambda: b"retrying" in m.stderr(), 10,
                           what="the outage logged")
        later = self.login(port)
        col2 = self.collector(cport_port)
        try:
            self.wait_login(col2, later, timeout=15)
        except AssertionError:
            raise AssertionError("%s\n%r %r" % (m.stderr().decode(),
                                 col2.records(), col2.errors))
        harness.wait_until(lambda: b"reconnected (TLS" in m.stderr(), 5,
                           what="the reconnection logged")
        del down

    def test_check_catches_bad_ca(self):
        for ca, why in ((os.path.join(self.tmp, "missing.pem"),
                         "No such file"),
                        (self.pki.key, "no usable CA certificates")):
            path = os.path.join(self.tmp, "t.conf")
            with open(path, "w") as f:
                f.write("listen imap 127.0.0.1:1143 backend "
                        "127.0.0.1:143\n"
                        "output syslog tls://127.0.0.1:6514 ca %s\n" % ca)
            r = subprocess.run([harness.msgeventd_binary(), "-c", path,
                                "-t"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=20)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(b"t.conf:2: output syslog tls://127.0.0.1:6514: "
                          b"ca ", r.stderr)
            self.assertIn(why.encode(), r.stderr)


if __name__ == "__main__":
    unittest.main()
