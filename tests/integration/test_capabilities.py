"""Extensions that would hide the traffic are not offered to clients.

A Dovecot with the imap_zlib plugin advertises COMPRESS=DEFLATE
(RFC 4978) after login, in the LOGIN's [CAPABILITY ...] code and in
CAPABILITY responses.  Through msgeventd the client must see neither,
while every other byte stays the server's: the test compares each
response through msgeventd with the same response read directly from
Dovecot, with only " COMPRESS=DEFLATE" taken out.
"""

import re
import unittest

import harness
from harness import HOST

ZLIB = ("mail_plugins = $mail_plugins zlib\n"
        "protocol imap {\n"
        "  mail_plugins = $mail_plugins imap_zlib\n"
        "}\n")


def session(port):
    """Greeting, LOGIN, CAPABILITY, LOGOUT on PORT; the responses."""
    user, password = "alice", harness.USERS["alice"]
    with harness.RawClient(port) as c:
        greeting = c.read_response()
        login, _ = c.command("a1", "LOGIN %s %s" % (user, password))
        capa, _ = c.command("a2", "CAPABILITY")
        c.command("a3", "LOGOUT")
    return greeting, login, capa


class Capabilities(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dovecot = harness.Dovecot(extra_config=ZLIB).start()
        try:
            cls.port = harness.free_port()
            cls.msgeventd = harness.Msgeventd(
                "server-name mail.test.example\n"
                "listen imap %s:%d backend %s:%d\n"
                % (HOST, cls.port, HOST, cls.dovecot.imap_port),
                [cls.port]).start()
        except BaseException:
            cls.dovecot.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.msgeventd.stop()
        finally:
            cls.dovecot.stop()

    def test_compress_not_offered(self):
        direct = session(self.dovecot.imap_port)
        proxied = session(self.port)
        # The backend really offers it: otherwise this test proves nothing.
        self.assertIn(b" COMPRESS=DEFLATE", direct[1])
        self.assertIn(b" COMPRESS=DEFLATE", direct[2])
        for d, p in zip(direct, proxied):
            self.assertNotIn(b"COMPRESS", p)
            # Nothing else differs but the timing figures Dovecot adds.
            self.assertEqual(strip_timing(
                d.replace(b" COMPRESS=DEFLATE", b"")), strip_timing(p))


def strip_timing(data):
    """Dovecot's "(0.001 + 0.000 secs)" differs from run to run."""
    return re.sub(rb" \([0-9.]+ \+ [0-9.]+( \+ [0-9.]+)? secs\)", b"", data)


if __name__ == "__main__":
    unittest.main()
