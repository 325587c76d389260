#!/usr/bin/env python3
"""demo_session.py - msgeventd in action, for `make demo`.

    python3 scripts/demo_session.py BUILD/msgeventd

Starts a throwaway Dovecot on loopback (tests/integration/harness.py),
puts msgeventd in front of it with `output syslog stderr`, and drives a
short IMAP session through the proxy: after each client command it
shows the server's answer and the RFC 5424 events msgeventd wrote.
Everything it starts is stopped and its temporary files removed on
exit, SIGINT and SIGTERM included.
"""

import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

import harness  # noqa: E402

SERVER_NAME = "mail.demo.example"
BOLD = "\033[1m" if sys.stdout.isatty() else ""
DIM = "\033[2m" if sys.stdout.isatty() else ""
CYAN = "\033[36m" if sys.stdout.isatty() else ""
RESET = "\033[0m" if sys.stdout.isatty() else ""


def show(prefix, data, width=110):
    for line in data.decode("utf-8", "replace").splitlines():
        if len(line) > width:
            line = line[:width - 3] + "..."
        print("%s%s%s" % (prefix, line, RESET))


class Events:
    """Reads what msgeventd writes to stderr as it comes."""

    def __init__(self, mev):
        self.mev = mev
        self.seen = 0

    def new(self, want, timeout=3.0):
        """The lines written since the last call; waits up to TIMEOUT
        for WANT syslog messages (lines starting with '<')."""
        deadline = time.monotonic() + timeout
        while True:
            data = self.mev.stderr()
            lines = data[self.seen:].split(b"\n")
            complete = lines[:-1]
            events = [x for x in complete if x.startswith(b"<")]
            if len(events) >= want or time.monotonic() > deadline:
                self.seen += sum(len(x) + 1 for x in complete)
                return complete
            time.sleep(0.02)

    def print_new(self, want):
        lines = self.new(want)
        events = [x for x in lines if x.startswith(b"<")]
        for x in lines:
            if x.startswith(b"<"):
                print("  %s=> %s%s" % (CYAN, x.decode("utf-8", "replace"),
                                       RESET))
            else:
                print("  %s%s%s" % (DIM, x.decode("utf-8", "replace"),
                                    RESET))
        if not events and want:
            print("  %s(no event yet)%s" % (DIM, RESET))
        print()


def step(title):
    print("%s== %s%s" % (BOLD, title, RESET))


def command(c, ev, tag, text, events):
    line = ("%s %s" % (tag, text)).encode()
    show("  C: ", line)
    c.send(line + b"\r\n")
    out, _ = c.read_until_tagged(tag)
    show("  S: ", out)
    ev.print_new(events)


INTERRUPTED = []


def on_signal(signum, frame):
    INTERRUPTED.append(signum)
    sys.exit(128 + signum)


def main():
    if len(sys.argv) != 2:
        print("usage: demo_session.py PATH/TO/msgeventd", file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    # SIGTERM (from demo.sh's trap) unwinds like Ctrl-C: every `with`
    # below stops its process and removes its temp dir (what an
    # interruption leaves, harness's atexit handler finishes).  SIGINT
    # is enabled explicitly: a background job of a non-interactive shell
    # inherits it ignored.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    print("Starting a throwaway Dovecot on 127.0.0.1 ...")
    with harness.Dovecot() as dovecot:
        port = harness.free_port()
        config = ("# msgeventd demo\n"
                  "server-name %s\n"
                  "listen imap 127.0.0.1:%d backend 127.0.0.1:%d\n"
                  "output syslog stderr\n"
                  % (SERVER_NAME, port, dovecot.imap_port))
        print("Dovecot IMAP on 127.0.0.1:%d; msgeventd on 127.0.0.1:%d "
              "with this configuration:\n" % (dovecot.imap_port, port))
        show("    ", config.encode())
        print()
        with harness.Msgeventd(config, [port], binary=binary) as mev:
            ev = Events(mev)
            step("msgeventd started")
            ev.print_new(0)
            run_session(port, ev, dovecot)
            step("Stopping msgeventd (SIGTERM)")
        lines = ev.new(0, 0)
        for x in lines:
            print("  %s%s%s" % (DIM, x.decode("utf-8", "replace"), RESET))
        print("\nmsgeventd exited with status %s." % mev.exit_status)
    print("Dovecot stopped, temporary files removed.")
    return 0


def run_session(port, ev, dovecot):
    alice_pw = harness.USERS["alice"]

    step("A client connects to msgeventd, which connects to Dovecot")
    c = harness.RawClient(port)
    show("  S: ", c.read_line())
    ev.print_new(0)

    step("LOGIN: a Login event (the password is in no event)")
    command(c, ev, "a1", "LOGIN alice %s" % alice_pw, 1)

    step("CREATE: MailboxCreate")
    command(c, ev, "a2", "CREATE Projects", 1)

    step("APPEND with a literal: MessageAppend with UIDVALIDITY, UID, "
         "size, flags")
    msg = (b"From: bob@demo.example\r\nTo: alice@demo.example\r\n"
           b"Subject: msgeventd demo\r\n\r\nHello from the demo.\r\n")
    head = b"a3 APPEND Projects (\\Seen) {%d}" % len(msg)
    show("  C: ", head)
    c.send(head + b"\r\n")
    show("  S: ", c.read_line())
    show("  C: ", b"<%d bytes of message>" % len(msg))
    c.send(msg + b"\r\n")
    out, _ = c.read_until_tagged("a3")
    show("  S: ", out)
    ev.print_new(1)

    step("RENAME: MailboxRename with oldMailboxID")
    command(c, ev, "a4", "RENAME Projects Archive", 1)

    step("SUBSCRIBE: MailboxSubscribe")
    command(c, ev, "a5", "SUBSCRIBE Archive", 1)

    step("DELETE: MailboxDelete")
    command(c, ev, "a6", "DELETE Archive", 1)

    step("A command the server refuses causes no event")
    command(c, ev, "a7", "DELETE Archive", 0)

    step("SELECT INBOX, then IDLE; the MTA delivers a message (LMTP)")
    command(c, ev, "c1", "SELECT INBOX", 0)
    show("  C: ", b"c2 IDLE")
    c.send(b"c2 IDLE\r\n")
    show("  S: ", c.read_line())
    dovecot.lmtp_deliver("alice", b"From: carol@demo.example\r\n"
                         b"To: alice@demo.example\r\n"
                         b"Subject: delivered by the MTA\r\n\r\nHi.\r\n")
    print("  %s(LMTP delivery to alice's INBOX, not through msgeventd)%s"
          % (DIM, RESET))
    show("  S: ", c.read_line())
    show("  C: ", b"DONE")
    c.send(b"DONE\r\n")
    out, _ = c.read_until_tagged("c2")
    show("  S: ", out)
    ev.print_new(0)

    step("STORE by sequence number: first msgeventd asks the server for "
         "the new message's UID\n   and flags (the client never sees that), "
         "so MessageNew names its UID; then MessageRead")
    command(c, ev, "c3", "STORE 1 +FLAGS (\\Seen)", 2)

    step("\\Deleted and EXPUNGE: MessageTrash, then MessageExpunge")
    command(c, ev, "c4", "STORE 1 +FLAGS.SILENT (\\Deleted)", 1)
    command(c, ev, "c5", "EXPUNGE", 1)

    step("LOGOUT: Logout, reason graceful, with the session's duration")
    command(c, ev, "a8", "LOGOUT", 1)
    c.read_until_close(10)
    c.close()

    step("Another client fails to log in: vnd.msgeventd.LoginFailure")
    c = harness.RawClient(port)
    show("  S: ", c.read_line())
    command(c, ev, "b1", "LOGIN alice not-the-password", 1)
    command(c, ev, "b2", "LOGOUT", 0)
    c.close()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:
        if INTERRUPTED:
            # e.g. msgeventd stopped by the same Ctrl-C a moment earlier
            sys.exit(128 + INTERRUPTED[0])
        raise
