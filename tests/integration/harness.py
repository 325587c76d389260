"""harness.py - the pieces msgeventd's integration tests are built from.

Python 3 standard library only.  Everything runs on 127.0.0.1 with ports
obtained by binding port 0, in temporary directories, and every process
started here is stopped by the test that started it (context managers),
or at the latest when the interpreter exits (atexit), also after a
failure.

    Dovecot()      a throwaway Dovecot (IMAP, POP3, LMTP), users alice/bob;
                   Dovecot(push_lua=True) also records every event Dovecot
                   itself sees (push-notification Lua driver) as JSON lines
    Rsyslog()      a throwaway rsyslogd collecting RFC 5424 over UDP and TCP
                   (octet-counting) into one JSON line per message
    Msgeventd()    msgeventd -c FILE in the foreground, stderr kept
    Snmptrapd()    a throwaway snmptrapd decoding with mibs/MSGEVENT-MIB.txt
    free_port()    a port nobody listens on right now
    imap_connect() an imaplib client; RawClient for byte-exact sessions

Set KEEP_TMP=1 to keep the temporary directories (logs, configs) after
the run; their paths are printed.
"""

import atexit
import errno
import imaplib
import json
import os
import pwd
import grp
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HOST = "127.0.0.1"

# Every process started through this module and not yet reaped, and
# every temporary directory made for one and not yet removed: atexit
# stops and removes whatever a test (or an interrupted run) left.
_LIVE = []
_TMPDIRS = []


def _kill_all():
    for proc in list(_LIVE):
        _terminate(proc, 5)
    for d in list(_TMPDIRS):
        _remove_tmp(d)


atexit.register(_kill_all)


def _terminate(proc, timeout):
    """SIGTERM, then SIGKILL after TIMEOUT seconds; returns the status.
    The process stays in _LIVE until it has been reaped, so an exception
    (SIGTERM turned into SystemExit, Ctrl-C) leaves it to atexit."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc in _LIVE:
        _LIVE.remove(proc)
    return proc.returncode


def _remove_tmp(d):
    if d in _TMPDIRS:
        _TMPDIRS.remove(d)
    if os.environ.get("KEEP_TMP"):
        sys.stderr.write("harness: kept %s\n" % d)
    else:
        shutil.rmtree(d, ignore_errors=True)


def _spawn(argv, stdout, stderr, **kw):
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout,
                            stderr=stderr, **kw)
    _LIVE.append(proc)
    return proc


# Ports handed out in this process: never the same one twice, even if
# the kernel offers it again after the probing socket is closed.
_GIVEN_PORTS = set()


def free_port(kind=socket.SOCK_STREAM, host=HOST):
    """A port on HOST that nothing is bound to now (for TCP or UDP)."""
    for _ in range(100):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind((host, 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        if port not in _GIVEN_PORTS:
            _GIVEN_PORTS.add(port)
            return port
    raise RuntimeError("no free port found")


def wait_until(predicate, timeout=10.0, interval=0.02, what="condition"):
    """Poll PREDICATE until it returns a true value (returned), or raise
    AssertionError after TIMEOUT seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1f s waiting for %s"
                                 % (timeout, what))
        time.sleep(interval)


def port_accepts(port, host=HOST):
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def port_listening(port):
    """True if some socket listens on TCP PORT, read from /proc/net/tcp*
    so that asking does not make a connection (a msgeventd session);
    falls back to connecting where /proc is not there."""
    found_proc = False
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        found_proc = True
        for line in lines:
            fields = line.split()
            # local_address is HEXIP:HEXPORT; state 0A is LISTEN.
            if (len(fields) > 3 and fields[3] == "0A" and
                    int(fields[1].rsplit(":", 1)[1], 16) == port):
                return True
    return False if found_proc else port_accepts(port)


def greets(port, prefix, host=HOST):
    """True if a connection to PORT is greeted with a line starting with
    PREFIX within a second."""
    try:
        with socket.create_connection((host, port), timeout=1) as s:
            data = b""
            while b"\n" not in data:
                chunk = s.recv(1024)
                if not chunk:
                    return False
                data += chunk
            return data.startswith(prefix)
    except OSError:
        return False


def _tail(path, n=40):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-n:])
    except OSError as e:
        return "(%s)" % e


class _Service:
    """A child process in the foreground, with its own temp dir."""

    name = "service"

    def __init__(self, tmpdir=None):
        self._own_tmp = tmpdir is None
        if tmpdir is None:
            # Short path: Unix socket paths must fit in 108 bytes.
            tmpdir = tempfile.mkdtemp(prefix="mev-%s-" % self.name[:4])
            _TMPDIRS.append(tmpdir)
        self.tmp = tmpdir
        self.proc = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _wait_ready(self, ready, timeout, logfile):
        def check():
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with status %s before it was "
                                   "ready; log %s:\n%s" % (
                                       self.name, self.proc.returncode,
                                       logfile, _tail(logfile)))
            return ready()
        try:
            wait_until(check, timeout, what="%s to be ready" % self.name)
        except AssertionError:
            self.stop()
            raise AssertionError("%s not ready within %s s; log %s:\n%s"
                                 % (self.name, timeout, logfile,
                                    _tail(logfile)))

    def stop(self):
        rc = None
        if self.proc is not None:
            rc = _terminate(self.proc, 10)
        self._cleanup_tmp()
        return rc

    def _cleanup_tmp(self):
        if self._own_tmp and self.tmp in _TMPDIRS:
            _remove_tmp(self.tmp)


# ---------------------------------------------------------------------------
# Dovecot

USERS = {
    "alice": "Secr3t-alice-pw",
    "bob": "Secr3t-bob-pw",
}

DOVECOT_CONF = """\
# Written by msgeventd's tests/integration/harness.py: a throwaway
# Dovecot on loopback.  Nothing of the system configuration is read.
base_dir = {tmp}/run
state_dir = {tmp}/state
instance_name = msgeventd-test-{imap_port}
listen = 127.0.0.1
protocols = imap pop3 lmtp
log_path = {tmp}/dovecot.log
info_log_path = {tmp}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# Tests fail logins on purpose: answer them at once.
auth_failure_delay = 0
auth_verbose = yes
first_valid_uid = {uid}
first_valid_gid = {gid}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
mail_location = maildir:{tmp}/mail/%u
mail_max_userip_connections = 1000
mail_plugins =
# Long lines must meet msgeventd's limit (64 KiB), not Dovecot's.
imap_max_line_length = 1M
protocol imap {{
  mail_max_userip_connections = 1000
}}
protocol pop3 {{
  mail_max_userip_connections = 1000
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {tmp}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {tmp}/passwd
  override_fields = uid={uid} gid={gid} home={tmp}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3_port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
# Failed logins slow every later login from 127.0.0.1 down (anvil's auth
# penalty, up to 15 s).  The auth process skips the penalty when it cannot
# reach anvil's penalty socket, so move that socket out of its way.
service anvil {{
  unix_listener anvil-auth-penalty {{
    path = anvil-auth-penalty-off
  }}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
}}
"""


class Dovecot(_Service):
    """A throwaway Dovecot: IMAP and POP3 on free loopback ports, LMTP on
    a Unix socket, users alice and bob (USERS) with maildirs in the temp
    dir.  Works as root or as an ordinary user.

    EXTRA_CONFIG, if given, is appended verbatim to the generated
    dovecot.conf.  Dovecot merges a repeated `service X { }` or
    `protocol imap { }` section into the earlier one, and a repeated
    plain setting overrides the earlier one, so a caller can add
    settings or raise limits without knowing the rest of the file.

    PUSH_LUA=True makes Dovecot record every event it sees itself (its
    push-notification plugin with the Lua driver running
    dovecot_events.lua, for IMAP and LMTP): one JSON object per line in
    push_events_file, read with push_events() and wait_push_events().
    push_lua_missing() says why that cannot work here, if it cannot."""

    name = "dovecot"
    users = USERS

    def __init__(self, tmpdir=None, extra_config: str = "",
                 push_lua: bool = False):
        super().__init__(tmpdir)
        self.extra_config = extra_config or ""
        self.imap_port = free_port()
        self.pop3_port = free_port()
        self.conf = self.path("dovecot.conf")
        self.log = self.path("dovecot.log")
        self.lmtp_socket = self.path("run", "lmtp")
        # push_lua: Dovecot's own record of the store's events, written
        # by dovecot_events.lua (see push_events()).
        self.push_lua = push_lua
        self.push_events_file = (self.path("push-events.jsonl")
                                 if push_lua else None)
        self.push_lua_script = (self.path("dovecot_events.lua")
                                if push_lua else None)

    # The Lua script next to this file, and the plugins it needs
    # (Debian: dovecot-auth-lua ships mail_lua and push_notification_lua).
    PUSH_LUA_SOURCE = os.path.join(os.path.dirname(os.path.abspath(
        __file__)), "dovecot_events.lua")
    PUSH_LUA_PLUGINS = ("mail_lua", "notify", "push_notification",
                        "push_notification_lua")

    @classmethod
    def push_lua_missing(cls):
        """None if Dovecot(push_lua=True) can work here, else why not."""
        moddir = "/usr/lib/dovecot/modules"
        try:
            out = subprocess.run(["doveconf", "-h", "mail_plugin_dir"],
                                 stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, timeout=10)
            if out.returncode == 0 and out.stdout.strip():
                moddir = out.stdout.decode().strip()
        except (OSError, subprocess.TimeoutExpired):
            pass
        try:
            names = os.listdir(moddir)
        except OSError as e:
            return "no Dovecot module directory %s (%s)" % (moddir, e)
        for plugin in cls.PUSH_LUA_PLUGINS:
            if not any(re.match(r"^(lib\d+_)?%s_plugin\.so$" % plugin, n)
                       for n in names):
                return ("Dovecot plugin %s not in %s (Debian: apt-get "
                        "install dovecot-auth-lua)" % (plugin, moddir))
        if not os.path.exists(cls.PUSH_LUA_SOURCE):
            return "%s is missing" % cls.PUSH_LUA_SOURCE
        return None

    def _write_config(self):
        uid, gid = os.getuid(), os.getgid()
        if uid == 0:
            # Dovecot refuses to run mail processes as root (a userdb
            # uid 0 is an error whatever first_valid_uid says), so the
            # mailboxes belong to nobody:nogroup.
            internal_user, internal_group = "dovecot", "dovecot"
            login_user = "dovenull"
            mail_pw = pwd.getpwnam("nobody")
            mail_uid, mail_gid = mail_pw.pw_uid, mail_pw.pw_gid
        else:
            # Unprivileged Dovecot: every process runs as us.
            internal_user = pwd.getpwuid(uid).pw_name
            internal_group = grp.getgrgid(gid).gr_name
            login_user = internal_user
            mail_uid, mail_gid = uid, gid
        self.mail_uid, self.mail_gid = mail_uid, mail_gid
        for d in ("run", "state", "mail", "home"):
            os.makedirs(self.path(d), exist_ok=True)
        for d in ("mail", "home"):
            os.chown(self.path(d), mail_uid, mail_gid)
        # The auth and mail processes run as other users: they must
        # reach the passwd-file (test passwords only) and the mailboxes.
        os.chmod(self.tmp, 0o711)
        if uid == 0:
            parent = os.path.dirname(os.path.abspath(self.tmp))
            while True:
                if not os.stat(parent).st_mode & 0o001:
                    raise RuntimeError(
                        "Dovecot's unprivileged processes cannot pass "
                        "through %s (mode %o): use another TMPDIR"
                        % (parent, os.stat(parent).st_mode & 0o7777))
                if parent == "/":
                    break
                parent = os.path.dirname(parent)
        with open(self.path("passwd"), "w") as f:
            for user, pw in self.users.items():
                # user:password:uid:gid:gecos:home:shell; uid, gid and
                # home come from the userdb's override_fields.
                f.write("%s:{PLAIN}%s::::::\n" % (user, pw))
        os.chmod(self.path("passwd"), 0o644)
        with open(self.conf, "w") as f:
            f.write(DOVECOT_CONF.format(
                tmp=self.tmp, imap_port=self.imap_port,
                pop3_port=self.pop3_port, uid=mail_uid, gid=mail_gid,
                internal_user=internal_user, internal_group=internal_group,
                login_user=login_user))
            if self.push_lua:
                f.write(self._push_lua_config())
            if self.extra_config:
                f.write("\n# Added by the caller "
                        "(Dovecot(extra_config=...)):\n")
                f.write(self.extra_config)
                if not self.extra_config.endswith("\n"):
                    f.write("\n")

    def _push_lua_config(self):
        """The push_lua=True part of dovecot.conf; prepares the script
        (a copy in the temp dir: the mail processes must read it) and the
        record file (the mail processes, IMAP and LMTP, must append)."""
        shutil.copyfile(self.PUSH_LUA_SOURCE, self.push_lua_script)
        os.chmod(self.push_lua_script, 0o644)
        with open(self.push_events_file, "wb"):
            pass
        self._push_cache, self._push_offset = [], 0
        os.chown(self.push_events_file, self.mail_uid, self.mail_gid)
        os.chmod(self.push_events_file, 0o644)
        plugins = " ".join(self.PUSH_LUA_PLUGINS)
        return (
            "\n# push_lua=True: Dovecot's own record of events, one JSON\n"
            "# line each (dovecot_events.lua).  IMAP and LMTP only.\n"
            "protocol imap {{\n"
            "  mail_plugins = $mail_plugins {plugins}\n"
            "}}\n"
            "protocol lmtp {{\n"
            "  mail_plugins = $mail_plugins {plugins}\n"
            "}}\n"
            "plugin {{\n"
            "  push_notification_driver = lua:file={script}\n"
            "  msgeventd_push_lua_file = {out}\n"
            "}}\n").format(plugins=plugins, script=self.push_lua_script,
                            out=self.push_events_file)

    def push_events(self, start=0):
        """push_lua=True: the events Dovecot recorded so far, in the
        order they were written, from the START-th on, as dicts (see
        dovecot_events.lua for the keys).  A line still being written
        is left for the next call."""
        if not self.push_lua:
            raise RuntimeError("Dovecot(push_lua=True) records events")
        # The file only grows: parse what is new since the last call.
        if not hasattr(self, "_push_cache"):
            self._push_cache, self._push_offset = [], 0
        try:
            with open(self.push_events_file, "rb") as f:
                f.seek(self._push_offset)
                data = f.read()
        except FileNotFoundError:
            data = b""
        end = data.rfind(b"\n") + 1     # complete lines only
        for line in data[:end].split(b"\n"):
            if line.strip():
                self._push_cache.append(json.loads(line.decode("utf-8")))
        self._push_offset += end
        return [dict(e) for e in self._push_cache[start:]]

    def wait_push_events(self, predicate, timeout=10.0,
                         what="events recorded by Dovecot"):
        """Poll push_events() until PREDICATE(events) returns a true
        value, and return that value."""
        return wait_until(lambda: predicate(self.push_events()), timeout,
                          what=what)

    def start(self, timeout=20):
        self._write_config()
        out = open(self.path("dovecot.stdout"), "wb")
        self.proc = _spawn(["dovecot", "-F", "-c", self.conf], out,
                           subprocess.STDOUT)
        out.close()

        # The listeners accept before the auth process is up; the login
        # processes greet only once it is.
        def ready():
            return (greets(self.imap_port, b"* OK")
                    and greets(self.pop3_port, b"+OK")
                    and os.path.exists(self.lmtp_socket))
        self._wait_ready(ready, timeout, self.log)
        return self

    def imap(self, user=None):
        """An imaplib client straight to Dovecot, logged in if USER."""
        c = imaplib.IMAP4(HOST, self.imap_port, timeout=10)
        if user:
            c.login(user, self.users[user])
        return c

    def lmtp_deliver(self, user, message, sender="sender@test.example"):
        """Deliver MESSAGE (bytes) to USER's INBOX over LMTP."""
        with smtplib.LMTP(self.lmtp_socket, timeout=10) as lmtp:
            refused = lmtp.sendmail(sender, [user], message)
        if refused:
            raise AssertionError("LMTP refused: %r" % (refused,))


# ---------------------------------------------------------------------------
# rsyslog

RSYSLOG_CONF = """\
# Written by msgeventd's tests/integration/harness.py: a throwaway
# rsyslogd that collects RFC 5424 messages from UDP and TCP (RFC 6587
# octet counting is recognised by imtcp) on loopback and writes each as
# one JSON object per line.  No system inputs: no imuxsock, no imklog.
global(workDirectory="{tmp}/work" net.enableDNS="off"
       parser.escapeControlCharactersOnReceive="off"
       maxMessageSize="64k")

module(load="imudp")
module(load="imtcp")
module(load="mmpstrucdata")

template(name="mevjson" type="list" option.jsonf="on") {{
  property(outname="input" name="inputname" format="jsonf")
  property(outname="raw" name="rawmsg" format="jsonf")
  property(outname="pri" name="pri" format="jsonf")
  property(outname="protocolVersion" name="protocol-version" format="jsonf")
  property(outname="timestamp" name="timereported" dateFormat="rfc3339"
           format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="appName" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="structuredData" name="structured-data" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
  property(outname="sd" name="$!rfc5424-sd" format="jsonf")
}}

ruleset(name="collect") {{
  action(type="mmpstrucdata" sd_name.lowercase="off")
  action(type="omfile" file="{out}" template="mevjson"
         asyncWriting="off" flushOnTXEnd="on")
}}

input(type="imudp" address="127.0.0.1" port="{udp_port}" ruleset="collect")
input(type="imtcp" address="127.0.0.1" port="{tcp_port}" ruleset="collect")

# rsyslogd's own messages (startup, errors) go elsewhere.
*.* action(type="omfile" file="{tmp}/rsyslogd.log")
"""


class Rsyslog(_Service):
    """A throwaway rsyslogd listening for syslog on UDP port udp_port and
    TCP port tcp_port (127.0.0.1).  Each message received becomes one
    JSON object in out_file with the keys:

        input            "imudp" or "imtcp"
        raw              the message as received (no TCP framing)
        pri, protocolVersion ("1" for RFC 5424), timestamp, hostname,
        appName, procid, msgid, structuredData (the SD text), msg
        sd               the structured data parsed by mmpstrucdata, a
                         dict {SD-ID: {param: value}} (values unescaped)
    """

    name = "rsyslog"

    def __init__(self, tmpdir=None):
        super().__init__(tmpdir)
        self.udp_port = free_port(socket.SOCK_DGRAM)
        self.tcp_port = free_port()
        self.conf = self.path("rsyslog.conf")
        self.out_file = self.path("messages.json")
        self.log = self.path("rsyslogd.log")
        self.stderr_file = self.path("rsyslogd.stderr")

    def start(self, timeout=20):
        os.makedirs(self.path("work"), exist_ok=True)
        with open(self.conf, "w") as f:
            f.write(RSYSLOG_CONF.format(tmp=self.tmp, out=self.out_file,
                                        udp_port=self.udp_port,
                                        tcp_port=self.tcp_port))
        err = open(self.stderr_file, "wb")
        self.proc = _spawn(["rsyslogd", "-n", "-f", self.conf,
                            "-i", self.path("rsyslogd.pid")],
                           err, subprocess.STDOUT)
        err.close()
        self._wait_ready(lambda: port_accepts(self.tcp_port) and
                         self._udp_bound(), timeout, self.stderr_file)
        return self

    def _udp_bound(self):
        # A UDP port in use refuses a second bind (no SO_REUSEADDR).
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((HOST, self.udp_port))
            return False
        except OSError as e:
            return e.errno == errno.EADDRINUSE
        finally:
            s.close()

    def records(self):
        """Every message received so far, in arrival order, as dicts."""
        try:
            with open(self.out_file, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        out = []
        for line in data.split(b"\n"):
            if not line.strip():
                continue
            try:
                rec = json.loads(line.decode("utf-8"))
            except ValueError:
                # A line being written right now; complete ones end in \n.
                if not data.endswith(b"\n"):
                    continue
                raise
            sd = rec.get("sd")
            if isinstance(sd, str):
                rec["sd"] = json.loads(sd) if sd.strip() else {}
            out.append(rec)
        return out

    def raw_bytes(self):
        try:
            with open(self.out_file, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def wait_for(self, predicate, timeout=10.0, what="a syslog message"):
        """Poll the received messages until PREDICATE(records) returns a
        true value, and return that value."""
        return wait_until(lambda: predicate(self.records()), timeout,
                          what=what)

    def send_udp(self, message):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(message, (HOST, self.udp_port))

    def send_tcp(self, *messages):
        """Send MESSAGES over one TCP connection, RFC 6587 octet counting."""
        with socket.create_connection((HOST, self.tcp_port), 5) as s:
            for m in messages:
                s.sendall(b"%d %s" % (len(m), m))


# ---------------------------------------------------------------------------
# msgeventd

def msgeventd_binary():
    """The binary under test: $MSGEVENTD, else build/msgeventd."""
    path = os.environ.get("MSGEVENTD")
    if not path:
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "..", "..", "build", "msgeventd")
    return os.path.abspath(path)


class Msgeventd(_Service):
    """msgeventd -c FILE in the foreground.  CONFIG is the configuration
    text; WAIT_PORTS the listen ports that must accept before start()
    returns.  stop() asserts it exits 0 within 15 s of SIGTERM."""

    name = "msgeventd"
    STOP_TIMEOUT = 15

    def __init__(self, config, wait_ports=(), binary=None, tmpdir=None):
        super().__init__(tmpdir)
        self.binary = binary or msgeventd_binary()
        self.config_text = config
        self.wait_ports = list(wait_ports)
        self.conf = self.path("msgeventd.conf")
        self.stderr_file = self.path("msgeventd.stderr")
        self.exit_status = None
        self.final_stderr = b""     # all of stderr, kept by stop()

    def start(self, timeout=10):
        with open(self.conf, "w") as f:
            f.write(self.config_text)
        err = open(self.stderr_file, "wb")
        self.proc = _spawn([self.binary, "-c", self.conf] + (["-d"] if os.environ.get("MEV_DEBUG") else []),
                           subprocess.DEVNULL, err)
        err.close()
        self._wait_ready(lambda: all(port_listening(p)
                                     for p in self.wait_ports),
                         timeout, self.stderr_file)
        return self

    def stderr(self):
        """Everything msgeventd wrote to stderr so far (after stop():
        all of it)."""
        if self.proc is not None and self.proc not in _LIVE:
            return self.final_stderr
        try:
            with open(self.stderr_file, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def assert_alive(self):
        if not self.alive():
            raise AssertionError("msgeventd died (status %s); stderr:\n%s"
                                 % (self.proc.returncode if self.proc
                                    else None,
                                    _tail(self.stderr_file)))

    def stop(self):
        """SIGTERM; the exit status must be 0 within STOP_TIMEOUT s."""
        if self.proc is None:
            self._cleanup_tmp()
            return None
        problem = None
        # An exception here (SIGTERM turned into SystemExit, Ctrl-C)
        # leaves the process in _LIVE and the temp dir for atexit.
        if self.proc.poll() is not None:
            problem = "msgeventd had already exited with status %s" \
                % self.proc.returncode
        else:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(self.STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                problem = "msgeventd did not exit within %d s of SIGTERM" \
                    % self.STOP_TIMEOUT
            if problem is None and self.proc.returncode != 0:
                problem = "msgeventd exited with status %s after SIGTERM" \
                    % self.proc.returncode
        if self.proc in _LIVE:
            _LIVE.remove(self.proc)
        self.exit_status = self.proc.returncode
        log = _tail(self.stderr_file)
        try:
            with open(self.stderr_file, "rb") as f:
                self.final_stderr = f.read()
        except OSError:
            pass
        self._cleanup_tmp()
        if problem:
            raise AssertionError("%s; stderr:\n%s" % (problem, log))
        return self.exit_status

    def __exit__(self, exc_type, exc, tb):
        try:
            self.stop()
        except AssertionError:
            if exc_type is None:
                raise
        return False


# ---------------------------------------------------------------------------
# IMAP clients

def imap_connect(port, host=HOST, timeout=10):
    """A real IMAP client (imaplib) connected to PORT.  Its local port,
    i.e. what msgeventd reports as clientPort, is client_port(c)."""
    return imaplib.IMAP4(host, port, timeout=timeout)


def client_port(conn):
    sock = conn.sock if hasattr(conn, "sock") else conn
    return sock.getsockname()[1]


class ConnectionClosed(Exception):
    pass


class RawClient:
    """A byte-exact IMAP client on a plain socket.  Everything received
    is also kept in .received, everything sent in .sent."""

    def __init__(self, port, host=HOST, timeout=10, nodelay=True):
        self.sock = socket.create_connection((host, port), timeout)
        if nodelay:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # What msgeventd reports as clientPort; kept for after close().
        self.local_port = self.sock.getsockname()[1]
        self.buf = b""
        self.sent = bytearray()
        self.received = bytearray()
        self.eof = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def abort(self):
        """Close with a TCP reset instead of a FIN."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        self.close()

    def send(self, data, chunks=None):
        """Send DATA, whole or (CHUNKS: an iterable of sizes, cycled)
        in pieces, each its own send() call."""
        if chunks is None:
            self.sock.sendall(data)
        else:
            sizes = iter(chunks)
            i = 0
            while i < len(data):
                n = max(1, next(sizes))
                self.sock.sendall(data[i:i + n])
                i += n
        self.sent += data

    def _fill(self):
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            raise ConnectionClosed("connection closed by peer; pending %r"
                                   % self.buf[:200])
        self.received += data
        self.buf += data

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_line(self):
        """One line with its CRLF (server literals are not followed)."""
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i + 2], self.buf[i + 2:]
                return line
            self._fill()

    _LITERAL = re.compile(rb"~?\{(\d+)\}\r\n$")

    def read_response(self):
        """One server response, literals included, as bytes."""
        out = b""
        while True:
            line = self.read_line()
            out += line
            m = self._LITERAL.search(line)
            if not m:
                return out
            out += self.read_exact(int(m.group(1)))

    def read_until_tagged(self, tag):
        """Responses up to and including the one tagged TAG; returns
        (all bytes, the tagged line)."""
        if isinstance(tag, str):
            tag = tag.encode()
        out = b""
        while True:
            resp = self.read_response()
            out += resp
            if resp.startswith(tag + b" "):
                return out, resp

    def command(self, tag, text, chunks=None):
        """Send 'TAG TEXT\\r\\n' and read up to the tagged response."""
        if isinstance(text, str):
            text = text.encode()
        self.send(tag.encode() + b" " + text + b"\r\n", chunks)
        return self.read_until_tagged(tag)

    def read_until_close(self, timeout=10):
        """Everything until the peer closes (or TIMEOUT: AssertionError)."""
        deadline = time.monotonic() + timeout
        out = self.buf
        self.buf = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("connection not closed within %s s; "
                                     "got %r" % (timeout, out[-300:]))
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                data = b""
            if not data:
                self.eof = True
                return out
            self.received += data
            out += data


# ---------------------------------------------------------------------------
# Syslog helpers

SD_ID = "msgevent@32473"


def event_params(rec, sd_id=SD_ID):
    """The event's parameters in a received record (a dict)."""
    return (rec.get("sd") or {}).get(sd_id, {})


def meta_params(rec):
    return (rec.get("sd") or {}).get("meta", {})


class DovecotRsyslogCase(unittest.TestCase):
    """Tests of one class sharing a Dovecot and an rsyslog, each started
    once for the class and stopped after it; listen() writes a config
    line relaying PORT to the Dovecot (or to BACKEND)."""

    @classmethod
    def setUpClass(cls):
        cls.dovecot = Dovecot().start()
        try:
            cls.rsyslog = Rsyslog().start()
        except BaseException:
            cls.dovecot.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.rsyslog.stop()
        finally:
            cls.dovecot.stop()

    def listen(self, port, backend=None):
        return "listen imap %s:%d backend %s:%d\n" % (
            HOST, port, HOST, backend or self.dovecot.imap_port)


# ---------------------------------------------------------------------------
# snmptrapd

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
# The project's MIB, and the IETF modules it imports (Debian ships none).
MIB_DIRS = (os.path.join(ROOT, "mibs"),
            os.path.join(os.path.dirname(ROOT), "shared", "mibs"))


class Snmptrapd(_Service):
    """A throwaway snmptrapd in the foreground, receiving on a free UDP
    port of 127.0.0.1 and decoding with mibs/MSGEVENT-MIB.txt (-M the
    project's and ../shared/mibs, -m MSGEVENT-MIB:SNMPv2-MIB).  Only its
    own configuration is read (-C -c): COMMUNITY is accepted for v2c,
    and USERS, each (name, auth, auth_pass, priv, priv_pass, engine_id),
    for v3 at priv level (engine_id None: informs, whose receiver is
    authoritative; else "0x..." of the trap sender).  It answers
    informs itself.

    Each notification becomes one line of out_file, parsed by
    records() into dicts:

        security   "TRAP2, SNMP v2c, community public",
                   "INFORM, SNMP v3, user mev, context "
        vars       [(name, type, value)], e.g.
                   ("MSGEVENT-MIB::msgEvUser.0", "STRING", "alice")
        trap       the snmpTrapOID.0 value, "MSGEVENT-MIB::msgEventLogin"
        values     {name without "MSGEVENT-MIB::" and ".0": value}
    """

    name = "snmptrapd"
    PREFIX = "MEVTRAP "

    def __init__(self, community="public", users=(), tmpdir=None):
        super().__init__(tmpdir)
        self.port = free_port(socket.SOCK_DGRAM)
        self.community = community
        self.users = list(users)
        self.conf = self.path("snmptrapd.conf")
        self.out_file = self.path("traps.log")
        self.stderr_file = self.path("snmptrapd.stderr")

    def start(self, timeout=20):
        os.makedirs(self.path("persist"), exist_ok=True)
        lines = ["# Written by msgeventd's tests/integration/harness.py"]
        if self.community:
            lines.append("authCommunity log,net %s" % self.community)
        for name, auth, apass, priv, ppass, engine in self.users:
            lines.append("createUser %s%s %s %s %s %s" % (
                "-e %s " % engine if engine else "", name, auth, apass,
                priv.replace("-", ""), ppass))
            lines.append("authUser log,net %s priv" % name)
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(self.conf, 0o600)
        err = open(self.stderr_file, "wb")
        env = dict(os.environ, SNMP_PERSISTENT_DIR=self.path("persist"))
        self.proc = _spawn(
            ["snmptrapd", "-f", "-C", "-c", self.conf,
             "-Lf", self.out_file,
             "-M", ":".join(MIB_DIRS), "-m", "MSGEVENT-MIB:SNMPv2-MIB",
             "-F", self.PREFIX + "%P\t%v\n",
             "--persistentDir=" + self.path("persist"),
             "-p", self.path("snmptrapd.pid"),
             "udp:%s:%d" % (HOST, self.port)],
            err, subprocess.STDOUT, env=env)
        err.close()
        self._wait_ready(self._udp_bound, timeout, self.stderr_file)
        return self

    # Ready when its port is taken: the same check as rsyslog's.
    _udp_bound = Rsyslog._udp_bound

    @property
    def udp_port(self):
        return self.port

    def text(self):
        """Everything snmptrapd logged (notifications and complaints)."""
        try:
            with open(self.out_file, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def records(self):
        out = []
        for line in self.text().split("\n"):
            if not line.startswith(self.PREFIX):
                continue
            fields = line[len(self.PREFIX):].split("\t")
            rec = {"security": fields[0], "vars": [], "values": {},
                   "trap": None}
            for vb in fields[1:]:
                name, _, rest = vb.partition(" = ")
                vtype, _, value = rest.partition(": ")
                rec["vars"].append((name, vtype, value))
                short = name.split("::")[-1]
                if short.endswith(".0"):
                    short = short[:-2]
                rec["values"][short] = value
                if short == "snmpTrapOID":
                    rec["trap"] = value
            out.append(rec)
        return out

    def wait_for(self, predicate, timeout=10.0, what="a notification"):
        """Poll records() until PREDICATE(records) returns a true value,
        and return that value."""
        return wait_until(lambda: predicate(self.records()), timeout,
                          what=what)
