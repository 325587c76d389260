"""The command line: -V, -t, error messages, usage, a busy listen port.

INTERFACE.md fixes the outside of the program:

    msgeventd -c FILE        run in the foreground
    msgeventd -c FILE -t     print nothing on success, exit 0; on error
                             print `FILE:LINE: message` to stderr, exit 1
    msgeventd -V             print the version, exit 0

Every case runs the real binary as a child process with a deadline
(subprocess.run kills it if it overstays), in a temporary directory.
"""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import unittest

import harness
from harness import HOST

# How long a command that must finish at once may take.
RUN_TIMEOUT = 10


def makefile_version():
    """VERSION from the top-level Makefile, or None."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        with open(os.path.join(here, "..", "..", "Makefile")) as f:
            for line in f:
                m = re.match(r"^VERSION\s*:?=\s*(\S+)\s*$", line)
                if m:
                    return m.group(1)
    except OSError:
        pass
    return None


class Cli(unittest.TestCase):

    def setUp(self):
        self.binary = harness.msgeventd_binary()
        self.tmp = tempfile.mkdtemp(prefix="mev-cli-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    # -- helpers -----------------------------------------------------------

    def run_msgeventd(self, *args, timeout=RUN_TIMEOUT):
        """Run msgeventd with ARGS; returns CompletedProcess (bytes)."""
        try:
            return subprocess.run([self.binary] + list(args),
                                  stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            # subprocess.run has killed and reaped it.
            self.fail("msgeventd %s did not exit within %s s; stderr %r"
                      % (" ".join(args), timeout, e.stderr))

    def write_conf(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def good_text(self):
        # Ports are never bound by -t, but use free ones all the same.
        return (
            "# a configuration that uses every directive of this version\n"
            "\n"
            "server-name   mail.test.example\n"
            "listen imap   %s:%d  backend %s:%d   # trailing comment\n"
            "listen imap   [::1]:%d  backend [::1]:%d\n"
            "listen imap   localhost:%d  backend localhost:%d\n"
            "listen pop3   %s:%d  backend %s:%d\n"
            "pop3-uidl-pattern \"^(?<uid>[0-9A-Fa-f]{8})"
            "(?<uidvalidity>[0-9A-Fa-f]{8})$\" hex\n"
            "output syslog udp://%s:%d\n"
            "output syslog tcp://%s:%d\n"
            "output syslog unix:%s/log.sock\n"
            "output syslog stderr\n"
            "max-line-length 65536\n"
            "idle-timeout 1800\n"
            "connect-timeout 10\n"
            "max-sessions 10000\n"
            "shutdown-grace 10\n"
            "output-queue 1048576\n"
            "syslog-max-size 2048\n"
            "syslog-facility local3\n"
            "syslog-sd-id \"msgevent@32473\"\n"
            % (HOST, harness.free_port(), HOST, harness.free_port(),
               harness.free_port(), harness.free_port(),
               harness.free_port(), harness.free_port(),
               HOST, harness.free_port(), HOST, harness.free_port(),
               HOST, harness.free_port(), HOST, harness.free_port(),
               self.tmp))

    def assert_config_error(self, lines, bad_line, message_re):
        """Write LINES (the BAD_LINE-th, from 1, is the bad one) and check
        that -t prints exactly 'FILE:BAD_LINE: message' (one line, the
        message matching MESSAGE_RE) to stderr, nothing to stdout, and
        exits 1."""
        path = self.write_conf("bad.conf", "".join(l + "\n" for l in lines))
        r = self.run_msgeventd("-c", path, "-t")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout, b"")
        err = r.stderr.decode("utf-8", "replace")
        prefix = "%s:%d: " % (path, bad_line)
        self.assertTrue(err.startswith(prefix),
                        "expected %r..., got %r" % (prefix, err))
        self.assertTrue(err.endswith("\n") and err.count("\n") == 1,
                        "expected exactly one line, got %r" % err)
        self.assertRegex(err[len(prefix):-1], message_re)
        return err[len(prefix):-1]

    def listen_line(self):
        return "listen imap %s:%d backend %s:%d" % (
            HOST, harness.free_port(), HOST, harness.free_port())

    # -- -V ----------------------------------------------------------------

    def test_version(self):
        r = self.run_msgeventd("-V")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, b"")
        out = r.stdout.decode()
        m = re.fullmatch(r"msgeventd (\S+)\n", out)
        self.assertTrue(m, "expected 'msgeventd VERSION\\n', got %r" % out)
        want = makefile_version()
        if want is not None:
            self.assertEqual(m.group(1), want,
                             "version differs from the Makefile's")

    # -- -t ----------------------------------------------------------------

    def test_check_good_config(self):
        path = self.write_conf("good.conf", self.good_text())
        r = self.run_msgeventd("-c", path, "-t")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"", b""))
        # The option order does not matter.
        r = self.run_msgeventd("-t", "-c", path)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"", b""))

    def test_check_does_not_bind(self):
        """-t only checks: a listen port someone else holds is no error
        (the running daemon holds its own ports, after all)."""
        with socket.socket() as busy:
            busy.bind((HOST, 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            path = self.write_conf("busy.conf", "listen imap %s:%d backend "
                                   "%s:%d\n" % (HOST, port, HOST,
                                                harness.free_port()))
            r = self.run_msgeventd("-c", path, "-t")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"", b""))

    def test_unknown_directive(self):
        msg = self.assert_config_error(
            ["# comment", "", "server-name mail.test.example",
             self.listen_line(), "frobnicate yes", "max-sessions 5"],
            5, r"^unknown directive 'frobnicate'$")
        self.assertEqual(msg, "unknown directive 'frobnicate'")

    def test_unknown_directive_after_quoted_value(self):
        # A quoted value containing '#' and blanks does not end the line
        # early, and line numbers count blank and comment lines.
        self.assert_config_error(
            [self.listen_line(), "syslog-sd-id \"msgevent@32473\"",
             "   ", "#x", "\"max sessions\" 5"],
            5, r"^unknown directive 'max sessions'$")

    def test_malformed_listen_address(self):
        self.assert_config_error(
            ["server-name mail.test.example",
             "listen imap 127.0.0.1 backend 127.0.0.1:143"],
            2, r"^listen: '127\.0\.0\.1' is not .*HOST:PORT")

    def test_malformed_listen_host(self):
        # No DNS: a host name other than localhost is refused.
        self.assert_config_error(
            ["listen imap mail.example.net:143 backend 127.0.0.1:143"],
            1, r"^listen: 'mail\.example\.net:143' is not ")

    def test_listen_without_backend(self):
        self.assert_config_error(
            ["", "listen imap 127.0.0.1:1143"],
            2, r"^listen: expected .*backend")

    def test_listen_port_out_of_range(self):
        self.assert_config_error(
            [self.listen_line(),
             "listen imap 127.0.0.1:70000 backend 127.0.0.1:143"],
            2, r"^listen: port in '127\.0\.0\.1:70000' is out of range "
               r"1\.\.65535$")

    def test_number_out_of_range(self):
        self.assert_config_error(
            [self.listen_line(), "# limits", "max-sessions 0"],
            3, r"^max-sessions: 0 is out of range 1\.\.\d+$")
        self.assert_config_error(
            [self.listen_line(), "syslog-max-size 100000"],
            2, r"^syslog-max-size: 100000 is out of range 480\.\.8192$")
        self.assert_config_error(
            ["shutdown-grace 99999999999999999999999", self.listen_line()],
            1, r"^shutdown-grace: 99999999999999999999999 is out of range "
               r"0\.\.\d+$")

    def test_number_malformed(self):
        self.assert_config_error(
            [self.listen_line(), "idle-timeout -5"],
            2, r"^idle-timeout: '-5' is not a decimal number")

    def test_pop3_uidl_pattern(self):
        """pop3-uidl-pattern is compiled by -t: PCRE2's message and the
        offset, or the named group that is missing."""
        self.assert_config_error(
            [self.listen_line(),
             "pop3-uidl-pattern \"^(?<uid>[0-9a-f]{8}(?<uidvalidity>.*$\" "
             "hex"],
            2, r"^pop3-uidl-pattern: not a valid PCRE2 pattern: missing "
               r"closing parenthesis at offset 37$")
        self.assert_config_error(
            [self.listen_line(), "pop3-uidl-pattern \"(?<uid>\\d+)\""],
            2, r"^pop3-uidl-pattern: no named group 'uidvalidity'")
        self.assert_config_error(
            [self.listen_line(), "pop3-uidl-pattern x octal"],
            2, r"^pop3-uidl-pattern: expected 'hex' or 'decimal', not "
               r"'octal'$")

    def test_missing_file(self):
        path = os.path.join(self.tmp, "no-such.conf")
        for args in (("-c", path, "-t"), ("-c", path)):
            r = self.run_msgeventd(*args)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertEqual(r.stdout, b"")
            self.assertEqual(r.stderr.decode(),
                             "%s: cannot open: No such file or directory\n"
                             % path)

    # -- usage -------------------------------------------------------------

    def test_no_arguments(self):
        r = self.run_msgeventd()
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, b"")
        self.assertRegex(r.stderr.decode(), r"^usage: msgeventd -c FILE")

    def test_bad_usage(self):
        path = self.write_conf("good.conf", self.good_text())
        for args in (("-t",), ("-x",), ("-c",), ("-c", path, "extra")):
            r = self.run_msgeventd(*args)
            self.assertEqual(r.returncode, 1, "msgeventd %s" % (args,))
            self.assertEqual(r.stdout, b"")
            self.assertIn(b"usage: msgeventd -c FILE", r.stderr,
                          "msgeventd %s" % (args,))

    # -- running -----------------------------------------------------------

    def test_listen_port_in_use(self):
        """A listen address that is taken: msgeventd must not run without
        it; it exits non-zero, naming the address and the reason."""
        with socket.socket() as busy:
            busy.bind((HOST, 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            ok_port = harness.free_port()
            path = self.write_conf("busy.conf", (
                "listen imap %s:%d backend %s:%d\n"
                "listen imap %s:%d backend %s:%d\n"
                "output syslog stderr\n"
                % (HOST, ok_port, HOST, harness.free_port(),
                   HOST, port, HOST, harness.free_port())))
            r = self.run_msgeventd("-c", path)
            self.assertNotEqual(r.returncode, 0, r.stderr)
            err = r.stderr.decode("utf-8", "replace")
            self.assertRegex(err, r"%s:%d\b.*[Aa]ddress already in use"
                             % (re.escape(HOST), port))
            self.assertFalse(harness.port_listening(ok_port),
                             "the other listener was left open")


if __name__ == "__main__":
    unittest.main()
