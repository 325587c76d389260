"""diff_ops.py - a seeded random IMAP workload for test_differential.py.

Python 3 standard library only.  A Runner drives two (sometimes more)
logged-in IMAP sessions of one user through msgeventd with raw bytes:
mailbox management, APPEND in every literal form, selected-state
commands, IDLE while a message arrives over LMTP, and bursts where both
sessions talk at once.  Every operation is one Op: what was sent, what
came back, its wall-clock window (for placing msgeventd's events, whose
timestamps are wall-clock) and the events Dovecot recorded while it ran.

Dovecot writes its push-notification events before it answers the
command that caused them, so the events that appeared in Dovecot's
record between the start and the end of an operation are that
operation's.  Operations run one after another; a burst is one
operation with a command on each session.

The choices depend only on the seed and on Dovecot's answers (OK or NO,
message counts); each step has its own random generator, seeded with
(seed, step), so a seed replays the same workload, and where timing
changes an answer (a message count), only that step differs.
"""

import base64
import random
import re
import time

import harness

# Dovecot's hierarchy separator with the harness's Maildir layout.
SEP = "."

# Mailbox names, as sent (modified UTF-7, before quoting).  They cover
# what the mailbox URL must encode (RFC 5092: space, "%", "#", "?",
# ";", "&", quotes), modified UTF-7 (Entwürfe, Q&A, Café, 日本語) and
# hierarchy.
MAILBOXES = [
    "Projects", "Archive", "Old Stuff", "Entw&APw-rfe", "Q&-A",
    "Caf&AOk-", "&ZeVnLIqe-", "100%", "a#b?c", "Semi;colon", 'Say "hi"',
    "Work", "Work.2024", "INBOX.Sub",
]

SYSTEM_FLAGS = ["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"]
KEYWORDS = ["$Forwarded", "$MDNSent", "$Junk", "Work", "todo", "Urgent"]

# Operations whose outcome msgeventd is known to report differently from
# Dovecot; the generator marks them (Op.known), and the comparator
# tolerates the differences of marked operations unless DIFF_STRICT is
# set.  Each maps to the event types whose differences it explains.
KNOWN = {
    # SUBSCRIBE of a subscribed mailbox, UNSUBSCRIBE of one that is not:
    # Dovecot answers OK and records nothing (no change).  msgeventd
    # reports no event when the session knew the state before (from its
    # LSUB and LIST responses and its own commands: SubsKnowledge
    # mirrors what it learns); here the session did not know, and
    # msgeventd reports the OK it saw as a change.
    "redundant-subscribe": {"MailboxSubscribe", "MailboxUnSubscribe"},
    # The session knew the state, but another session changed it since,
    # unseen (no server tells): msgeventd leaves out a change that
    # happened, or reports one that did not.
    "stale-subscription": {"MailboxSubscribe", "MailboxUnSubscribe"},
    # CREATE "Foo." (RFC 9051 6.3.4: a trailing separator says the name
    # will get children): Dovecot creates and records "Foo".  msgeventd
    # leaves the separator out once a LIST or LSUB response told the
    # session what it is; here none had, and it reports "Foo." as sent.
    "trailing-separator": {"MailboxCreate"},
    # APPEND (Work work todo): Dovecot 2.3.19 stores and records only the
    # keywords before the duplicate ("Work"); msgeventd reports the flags
    # the client asked for.
    "duplicate-keyword": {"MessageAppend"},
    # APPEND with a flag Dovecot rejects (\Recent) and a LITERAL+ literal:
    # Dovecot answers BAD and then reads the literal's bytes as commands
    # (here a CREATE, which it executes); msgeventd takes them for the
    # message, as the grammar says, and never sees that CREATE.
    "bad-literal-plus": {"MailboxCreate"},
    # Found after the run, not predicted (test_differential.Comparison):
    # Dovecot's maildir gave a message a new UID itself ("dovecot-uidlist:
    # Duplicate file entry ... (uid 12 -> 28)" in its log) and recorded
    # no event; msgeventd saw the old UID go and a new one come while no
    # session through it did anything there, and reports them as an
    # external MessageExpunge and a MessageNew.
    "dovecot-renumbered": {"MessageExpunge", "MessageNew"},
    # Found after the run: a FLAGS replace cleared a flag that another
    # session had set since this session last ran a command, so the
    # server had not told this one yet (imap_infer.c, "What stays
    # hidden": the reply reads the same either way).  msgeventd reports
    # the flags the replace set, not the other session's flag it cleared.
    "other-session-flags": {"FlagsClear"},
}

_ATOM_SPECIALS = set('(){ %*"\\]') | {chr(i) for i in range(0x20)} | {"\x7f"}


class Literal:
    """A literal argument: MODE "sync" ({n}), "plus" ({n+}), "binary"
    (~{n}) or "binary+" (~{n+})."""

    def __init__(self, data, mode):
        self.data = data
        self.mode = mode

    def prefix(self):
        n = len(self.data)
        return {"sync": b"{%d}" % n, "plus": b"{%d+}" % n,
                "binary": b"~{%d}" % n, "binary+": b"~{%d+}" % n}[self.mode]

    def synchronizing(self):
        return self.mode in ("sync", "binary")


class Response:
    """The end of one command: STATUS (OK/NO/BAD), the tagged line, the
    untagged responses before it (bytes), and a refused literal."""

    def __init__(self, tag, status, tagged, untagged, refused=False):
        self.tag = tag
        self.status = status
        self.tagged = tagged
        self.untagged = untagged
        self.refused = refused

    def ok(self):
        return self.status == "OK"

    def short(self):
        line = self.tagged.decode("utf-8", "replace").rstrip("\r\n")
        # Dovecot's timing suffix says nothing.
        return re.sub(r" \(\d+\.\d+ \+ [0-9.+ ]+ secs\)\.?$", "", line)


class SubsKnowledge:
    """What msgeventd's inference for one session knows of the
    subscription list (parser/imap_infer.c, "the subscription list"),
    mirrored: names known subscribed (True) or not (False), None for a
    name made unknown while the list was complete; COMPLETE after a full
    listing (a name not kept is not subscribed)."""

    def __init__(self):
        self.names = []         # [name, state], oldest first
        self.complete = False

    @staticmethod
    def same(a, b, delim):
        if len(a) != len(b):
            return False
        if (len(a) >= 5 and a[:5].upper() == "INBOX" and
                b[:5].upper() == "INBOX" and
                (len(a) == 5 or (delim and a[5] == SEP))):
            return a[5:] == b[5:]
        return a == b

    def find(self, name, delim):
        for rec in self.names:
            if self.same(rec[0], name, delim):
                return rec
        return None

    def absent(self):
        return False if self.complete else None

    def get(self, name, delim):
        rec = self.find(name, delim)
        return rec[1] if rec else self.absent()

    def set(self, name, state, delim, mark=False):
        rec = self.find(name, delim)
        if rec:
            rec[1] = state
            if mark:
                rec.append("mark")
            return
        if state == self.absent():
            return
        self.names.append([name, state] + (["mark"] if mark else []))

    def forget(self, name, subtree, delim):
        if subtree:
            self.complete = False
            if not delim:
                self.names = []
                return
        self.names = [r for r in self.names
                      if not (self.same(r[0], name, delim) or
                              (subtree and len(r[0]) > len(name) and
                               r[0][len(name)] == SEP and
                               self.same(r[0][:len(name)], name, delim)))]
        if self.complete:
            self.set(name, None, delim)

    def listing(self, full, substate, lsub, entries, delim):
        """A LIST or LSUB reply: ENTRIES of (attributes, name or None
        for a literal)."""
        cut = False
        if full:
            for r in self.names:
                del r[2:]
        for attrs, name in entries:
            if name is None:
                cut = True
                continue
            if lsub:
                state = True if (full or "\\noselect" not in attrs) \
                    else None
            elif "\\subscribed" in attrs:
                state = True
            else:
                state = False if substate else None
            if state is not None:
                self.set(name, state, delim, full and state)
        if full:
            self.names = [r[:2] for r in self.names if len(r) > 2]
            self.complete = not cut


class Session:
    """One logged-in IMAP session on a RawClient, with what the
    generator needs to know: the selected mailbox and its size, and
    what msgeventd learned from this session's traffic (the hierarchy
    delimiter, the subscription list)."""

    def __init__(self, name, port, user, password, auth="login"):
        self.name = name
        self.client = harness.RawClient(port)
        self.port = self.client.local_port
        self.ntag = 0
        self.selected = None
        self.readonly = False
        self.exists = 0
        self.delim = False          # a LIST/LSUB reply told it
        self.subs = SubsKnowledge()
        greeting = self.client.read_line()
        if not greeting.startswith(b"* OK"):
            raise AssertionError("session %s: greeting %r" % (name, greeting))
        if auth == "plain":
            ir = base64.b64encode(b"\0" + user.encode() + b"\0" +
                                  password.encode()).decode()
            resp = self.execute([b"AUTHENTICATE PLAIN " + ir.encode()])
        else:
            resp = self.execute([("LOGIN %s %s" % (user, password)).encode()])
        if not resp.ok():
            raise AssertionError("session %s: login failed: %r"
                                 % (name, resp.tagged))

    def tag(self):
        self.ntag += 1
        return "%s%d" % (self.name, self.ntag)

    # -- responses ---------------------------------------------------------

    def _track(self, resp):
        """Follow the selected mailbox's size in untagged responses."""
        m = re.match(rb"\* (\d+) (EXISTS|EXPUNGE)\b", resp)
        if m:
            n = int(m.group(1))
            if m.group(2) == b"EXISTS":
                self.exists = n
            else:
                self.exists = max(0, self.exists - 1)

    def read_until(self, tags, stop_continuation=False):
        """Read responses until every tag in TAGS has its tagged response
        (or, with STOP_CONTINUATION, a "+" arrives: returned as None).
        Returns {tag: Response}, the untagged bytes going to each."""
        want = [t.encode() for t in tags]
        out = {}
        untagged = b""
        while len(out) < len(want):
            resp = self.client.read_response()
            if resp.startswith(b"+"):
                if stop_continuation:
                    return None
                continue
            if resp.startswith(b"* "):
                untagged += resp
                self._track(resp)
                continue
            tag = resp.split(b" ", 1)[0]
            if tag in want:
                fields = resp.split(b" ", 2)
                status = fields[1].decode("ascii", "replace").upper() \
                    if len(fields) > 1 else ""
                out[tag.decode()] = Response(tag.decode(), status, resp,
                                             untagged)
                untagged = b""
        return out

    # -- commands ----------------------------------------------------------

    def encode(self, parts):
        """The bytes of a command whose literals are all non-
        synchronizing (it goes in one piece)."""
        out = b""
        for p in parts:
            if isinstance(p, Literal):
                assert not p.synchronizing()
                out += p.prefix() + b"\r\n" + p.data
            else:
                out += p
        return out + b"\r\n"

    def send_parts(self, tag, parts):
        """Send the command; wait for "+" before each synchronizing
        literal.  Returns a Response if the server ended the command
        early (refused a literal), else None."""
        buf = tag.encode() + b" "
        for p in parts:
            if isinstance(p, Literal):
                buf += p.prefix() + b"\r\n"
                if p.synchronizing():
                    self.client.send(buf)
                    buf = b""
                    got = self.read_until([tag], stop_continuation=True)
                    if got is not None:
                        got[tag].refused = True
                        return got[tag]
                buf += p.data
            else:
                buf += p
        self.client.send(buf + b"\r\n")
        return None

    def execute(self, parts, tag=None):
        tag = tag or self.tag()
        early = self.send_parts(tag, parts)
        if early is not None:
            resp = early
        else:
            resp = self.read_until([tag])[tag]
        return resp

    def logout(self):
        resp = self.execute([b"LOGOUT"])
        self.client.close()
        return resp

    def close(self):
        self.client.close()


class Op:
    """One operation of the workload."""

    def __init__(self, index, kinds, session, text):
        self.index = index
        self.kinds = set(kinds)     # command kinds sent (APPEND, COPY, ...)
        self.session = session      # session name(s)
        self.text = text            # what was sent, short
        self.known = set()          # KNOWN divergences this op exercises
        self.results = []           # short tagged responses
        self.t_start = self.t_end = None
        self.ports = set()          # client ports of its sessions
        self.dovecot = []           # events Dovecot recorded meanwhile
        self.responses = b""        # what the server answered (the end)

    def describe(self):
        s = "op #%d [%s] %s" % (self.index, self.session, self.text)
        if self.results:
            s += " -> " + " | ".join(self.results)
        if self.known:
            s += " (known: %s)" % ", ".join(sorted(self.known))
        return s


def split_responses(data):
    """Server responses in DATA (bytes, literals included), one each."""
    out = []
    i = 0
    while i < len(data):
        end = data.find(b"\r\n", i)
        end = len(data) if end < 0 else end + 2
        while True:
            m = re.search(rb"~?\{(\d+)\+?\}\r\n$", data[i:end])
            if not m:
                break
            nxt = data.find(b"\r\n", end + int(m.group(1)))
            end = len(data) if nxt < 0 else nxt + 2
        out.append(data[i:end])
        i = end
    return out


_LIST_RE = re.compile(rb'^\* (LIST|LSUB) \(([^)]*)\) '
                      rb'(NIL|"(?:[^"\\]|\\.)*") (.*)$', re.S | re.I)


def parse_list(resp):
    """A LIST or LSUB response as (LIST or LSUB, attributes in lower
    case, delimiter or None, name or None when it came as a literal),
    else None."""
    m = _LIST_RE.match(resp)
    if not m:
        return None
    kind = m.group(1).decode().upper()
    attrs = m.group(2).decode("utf-8", "replace").lower().split()
    delim = None if m.group(3).upper() == b"NIL" else \
        re.sub(rb"\\(.)", rb"\1", m.group(3)[1:-1]).decode()
    rest = m.group(4)
    if rest.startswith(b"{") or rest.startswith(b"~{"):
        return kind, attrs, delim, None
    if rest.startswith(b'"'):
        name, i = b"", 1
        while i < len(rest) and rest[i:i + 1] != b'"':
            if rest[i:i + 1] == b"\\":
                i += 1
            name += rest[i:i + 1]
            i += 1
    else:
        name = re.split(rb"[ \r\n]", rest, 1)[0]
    return kind, attrs, delim, name.decode("utf-8", "replace")


def _printable(b):
    s = b.decode("utf-8", "replace")
    s = re.sub(r"[\r\n]+", " ", s)
    return s if len(s) <= 110 else s[:107] + "..."


class Runner:
    """The workload: seed RNG, msgeventd's PORT, DOVECOT (push_lua=True)."""

    def __init__(self, seed, port, dovecot, user="alice"):
        self.rng = random.Random(seed)
        self.seed = seed
        self.port = port
        self.dovecot = dovecot
        self.user = user
        self.password = dovecot.users[user]
        self.ops = []
        self.current = None         # the op under way (for reports)
        # Dovecot's events before the workload are none of its business.
        self.baseline = self.seen = len(dovecot.push_events())
        self.all_ports = []
        self.sessions = {}
        # What Dovecot holds, as far as the answers tell (normalized names).
        self.existing = {"INBOX"}
        self.subscribed = set()
        for name in ("A", "B"):
            op = self.begin({"LOGIN"}, name, "new session, LOGIN")
            self.sessions[name] = self.new_session(name)
            self.end(op)

    def new_session(self, name, auth="login"):
        s = Session(name, self.port, self.user, self.password, auth)
        self.all_ports.append(s.port)
        # Half the time a client's start: the delimiter and the
        # subscriptions (RFC 9051 6.3.9), as Thunderbird does.
        if self.rng.random() < 0.5:
            self.list_command(s, 'LIST "" ""')
            self.list_command(s, 'LSUB "" "*"')
        return s

    # -- what msgeventd learns from LIST and LSUB --------------------------

    LIST_COMMANDS = {
        # command: (LSUB, full listing, asks for \Subscribed)
        'LIST "" ""': (False, False, False),
        'LIST "" "*"': (False, False, False),
        'LSUB "" "*"': (True, True, False),
        'LSUB "" "%"': (True, False, False),
        'LIST (SUBSCRIBED) "" "*"': (False, True, True),
        'LIST "" "*" RETURN (SUBSCRIBED)': (False, False, True),
    }

    def list_command(self, s, text, op=None):
        """Run LIST or LSUB TEXT on session S (inside OP, or alone) and
        update what msgeventd's inference learns from the reply."""
        if op is None:
            resp = s.execute([text.encode()])
        else:
            op, resp = self.simple(s, text.split()[0], [text.encode()])
        lsub, full, substate = self.LIST_COMMANDS[text]
        entries = []
        for r in split_responses(resp.untagged):
            parsed = parse_list(r)
            if parsed is None:
                continue
            kind, attrs, delim, name = parsed
            if delim is not None and len(delim) == 1:
                s.delim = True
            entries.append((attrs, name))
        if resp.ok():
            s.subs.listing(full, substate, lsub, entries, s.delim)
        return resp

    # -- names -------------------------------------------------------------

    @staticmethod
    def norm(name):
        """The name as Dovecot reports it: INBOX is case-insensitive."""
        head, sep, rest = name.partition(SEP)
        if head.upper() == "INBOX":
            return "INBOX" + sep + rest
        return name

    def astring(self, name, literal_ok=True):
        """NAME as an IMAP astring in a random form: parts for a command."""
        data = name.encode("utf-8")
        forms = ["quoted"]
        if data and not any(chr(c) in _ATOM_SPECIALS for c in data):
            forms += ["atom", "atom", "atom"]
        if literal_ok:
            forms += ["sync", "plus"]
        form = self.rng.choice(forms)
        if form == "atom":
            return [data]
        if form == "quoted":
            return [b'"' + data.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
                    + b'"']
        return [Literal(data, form)]

    def pick_existing(self, inbox=True):
        names = sorted(self.existing if inbox
                       else self.existing - {"INBOX"})
        return self.rng.choice(names) if names else None

    def pick_name(self, existing_bias=0.5):
        if self.rng.random() < existing_bias and self.existing:
            return self.pick_existing()
        return self.rng.choice(MAILBOXES)

    def case_variant(self, name):
        """INBOX in another case now and then (the same mailbox)."""
        if name.upper().startswith("INBOX") and self.rng.random() < 0.3:
            return self.rng.choice(["inbox", "Inbox", "iNbOx"]) + name[5:]
        return name

    # -- running -----------------------------------------------------------

    def begin(self, kinds, session, text):
        op = Op(len(self.ops) + 1, kinds, session, text)
        for name in session.split("+"):
            if name in self.sessions:
                op.ports.add(self.sessions[name].port)
        op.t_start = time.time()
        self.current = op
        return op

    def end(self, op):
        op.t_end = time.time()
        for name in op.session.split("+"):
            if name in self.sessions:
                op.ports.add(self.sessions[name].port)
        new = self.dovecot.push_events(self.seen)
        self.seen += len(new)
        for ev in new:
            ev["_op"] = op.index
        op.dovecot = new
        self.ops.append(op)
        return op

    def run(self, nops):
        weights = [
            (self.op_create, 8), (self.op_delete, 5), (self.op_rename, 5),
            (self.op_subscribe, 5), (self.op_append, 22),
            (self.op_select, 6), (self.op_store, 10), (self.op_copy, 6),
            (self.op_expunge, 4), (self.op_close, 2), (self.op_fetch, 5),
            (self.op_misc, 3), (self.op_idle_lmtp, 2), (self.op_lmtp, 1),
            (self.op_burst, 5), (self.op_reconnect, 1.5),
            (self.op_bad_literal_plus, 0.5),
        ]
        funcs = [f for f, _ in weights]
        w = [x for _, x in weights]
        for step in range(nops):
            # Each step draws from its own generator: what Dovecot
            # answered in one step (a count that differs with timing)
            # does not change the choices of the next ones.
            self.rng = random.Random("%d:%d" % (self.seed, step))
            self.rng.choices(funcs, w)[0]()

    def finish(self):
        """LOGOUT every session (their Logout events end msgeventd's
        record)."""
        for name in sorted(self.sessions):
            s = self.sessions[name]
            op = self.begin({"LOGOUT"}, name, "LOGOUT")
            op.results.append(s.logout().short())
            self.end(op)
        self.sessions = {}

    def close(self):
        """Close every session's connection (after a failure)."""
        for s in self.sessions.values():
            s.close()

    def session(self):
        return self.sessions[self.rng.choice(sorted(self.sessions))]

    def simple(self, s, kind, parts, text=None):
        """Run one command on session S as one Op; returns (op, resp)."""
        if text is None:
            text = _printable(b"".join(
                p.prefix() + b" " + p.data if isinstance(p, Literal) else p
                for p in parts))
        op = self.begin({kind}, s.name, text)
        resp = s.execute(parts)
        op.results.append(resp.short())
        op.responses += resp.untagged[-1500:] + resp.tagged
        self.end(op)
        return op, resp

    # -- mailbox management (compared) -------------------------------------

    def op_create(self):
        s = self.session()
        name = self.pick_name(existing_bias=0.15)
        trailing = self.rng.random() < 0.05 and not name.endswith(SEP)
        wire = self.case_variant(name) + (SEP if trailing else "")
        op, resp = self.simple(s, "CREATE",
                               [b"CREATE "] + self.astring(wire))
        if trailing and not s.delim:
            op.known.add("trailing-separator")
        if resp.ok():
            self.existing.add(self.norm(name))

    def release(self, name):
        """Unselect NAME and its children in every session first: Dovecot
        ends a session whose selected mailbox goes away (* BYE)."""
        n = self.norm(name)
        for sel in [self.sessions[k] for k in sorted(self.sessions)]:
            if sel.selected is not None and (
                    sel.selected == n or sel.selected.startswith(n + SEP)):
                self.simple(sel, "UNSELECT", [b"UNSELECT"])
                sel.selected = None
                sel.exists = 0

    def op_delete(self):
        s = self.session()
        r = self.rng.random()
        if r < 0.05:
            name = "INBOX"
        elif r < 0.2:
            name = self.rng.choice(MAILBOXES)
        else:
            name = self.pick_existing(inbox=False) or "Projects"
        if self.norm(name) != "INBOX":
            self.release(name)
        wire = self.case_variant(name)
        op, resp = self.simple(s, "DELETE",
                               [b"DELETE "] + self.astring(wire))
        if resp.ok():
            self.existing.discard(self.norm(name))
            s.subs.forget(wire, False, s.delim)

    def op_rename(self):
        s = self.session()
        old = (self.pick_existing(inbox=False) if self.rng.random() < 0.9
               else self.rng.choice(MAILBOXES)) or "Projects"
        new = self.rng.choice(MAILBOXES)
        if self.norm(old) != "INBOX":
            self.release(old)
        parts = [b"RENAME "] + self.astring(old)
        new_wire = self.case_variant(new)
        op, resp = self.simple(s, "RENAME",
                               parts + [b" "] + self.astring(new_wire))
        if resp.ok():
            s.subs.forget(old, True, s.delim)
            s.subs.forget(new_wire, True, s.delim)
            old_n, new_n = self.norm(old), self.norm(new)
            # Children move with their parent (RFC 3501 6.3.5);
            # subscriptions stay where they were (Dovecot).
            for name in list(self.existing):
                if name == old_n or name.startswith(old_n + SEP):
                    self.existing.discard(name)
                    self.existing.add(new_n + name[len(old_n):])
            for sel in self.sessions.values():
                if sel.selected == old_n:
                    sel.selected = new_n

    def op_subscribe(self):
        s = self.session()
        name = self.pick_name(existing_bias=0.8)
        n = self.norm(name)
        unsub = self.rng.random() < 0.45
        if unsub:
            # Mostly one that is subscribed.
            if self.subscribed and self.rng.random() < 0.8:
                name = n = self.rng.choice(sorted(self.subscribed))
        wire = self.case_variant(name)
        known = s.subs.get(wire, s.delim)
        verb = "UNSUBSCRIBE" if unsub else "SUBSCRIBE"
        op, resp = self.simple(s, verb, [verb.encode() + b" "] +
                               self.astring(wire))
        if not resp.ok():
            return
        # Dovecot records a change; msgeventd reports one unless the
        # session knew the state was so already.
        want = not unsub
        if ((n in self.subscribed) != want) != (known != want):
            op.known.add("redundant-subscribe" if known is None
                         else "stale-subscription")
        s.subs.set(wire, want, s.delim)
        if want:
            self.subscribed.add(n)
        else:
            self.subscribed.discard(n)

    # -- APPEND (compared) -------------------------------------------------

    def flag_list(self):
        """A random flag list (text) or None; and whether it repeats a
        keyword (KNOWN duplicate-keyword)."""
        r = self.rng.random()
        if r < 0.25:
            return None, False
        if r < 0.32:
            return "()", False
        flags = self.rng.sample(SYSTEM_FLAGS, self.rng.randint(0, 3))
        flags += self.rng.sample(KEYWORDS, self.rng.randint(0, 2))
        out = []
        for f in flags:
            if f.startswith("\\") and self.rng.random() < 0.15:
                f = "\\" + self.rng.choice([f[1:].upper(), f[1:].lower()])
            out.append(f)
        dup = False
        kws = [f for f in out if not f.startswith("\\")]
        if kws and self.rng.random() < 0.03:
            k = self.rng.choice(kws)
            out.insert(out.index(k) + 1, k.swapcase())
            dup = True
        self.rng.shuffle(out)
        if not out:
            return "()", False
        return "(" + " ".join(out) + ")", dup

    def message(self, op_index, k):
        if self.rng.random() < 0.015:
            return b""      # Dovecot: NO, "Can't save a zero byte message"
        size = self.rng.randint(60, 2500)
        if self.rng.random() < 0.04:
            size = self.rng.randint(20000, 70000)
        head = (b"From: carol@test.example\r\nTo: alice@test.example\r\n"
                b"Subject: differential seed %d op %d message %d\r\n"
                b"Message-ID: <%d.%d.%d@diff.test>\r\n\r\n"
                % (self.seed, op_index, k, self.seed, op_index, k))
        body = b""
        while len(head) + len(body) < size:
            body += b"line %d of a message for the differential test\r\n" \
                % (len(body) // 40)
        return head + body

    def append_parts(self, mailbox, nmsg, op_index, plus_only=False):
        """APPEND's parts: the mailbox, then NMSG messages (RFC 3502
        MULTIAPPEND) each with optional flags, date and a literal of a
        random kind or CATENATE (RFC 4469).  Returns (parts, dup)."""
        parts = [b"APPEND "] + self.astring(mailbox,
                                            literal_ok=not plus_only)
        if plus_only and isinstance(parts[-1], Literal):
            parts[-1].mode = "plus"
        dup_any = False
        for k in range(nmsg):
            flags, dup = self.flag_list()
            dup_any |= dup
            if flags:
                parts.append(b" " + flags.encode())
            if self.rng.random() < 0.3:
                parts.append(b' "%02d-%s-20%02d %02d:%02d:%02d %s"' % (
                    self.rng.randint(1, 28),
                    self.rng.choice([b"Jan", b"Feb", b"Jul", b"Dec"]),
                    self.rng.randint(10, 25), self.rng.randint(0, 23),
                    self.rng.randint(0, 59), self.rng.randint(0, 59),
                    self.rng.choice([b"+0000", b"-0700", b"+0530"])))
            data = self.message(op_index, k + 1)
            modes = ["plus", "binary+"] if plus_only else \
                ["sync", "plus", "plus", "binary", "binary+"]
            if data and self.rng.random() < 0.12:
                # CATENATE with TEXT parts only (no URLs).
                cut = self.rng.randint(1, max(1, len(data) - 1))
                pieces = [data[:cut], data[cut:]] if cut < len(data) \
                    else [data]
                parts.append(b" CATENATE (")
                for i, piece in enumerate(pieces):
                    mode = self.rng.choice(["plus"] if plus_only
                                           else ["sync", "plus"])
                    parts += [b" TEXT " if i else b"TEXT ",
                              Literal(piece, mode)]
                parts.append(b")")
            else:
                parts += [b" ", Literal(data, self.rng.choice(modes))]
        return parts, dup_any

    def append_target(self):
        r = self.rng.random()
        if r < 0.08:
            # Dovecot says NO [TRYCREATE]: no event.
            names = [n for n in MAILBOXES if self.norm(n) not in self.existing]
            if names:
                return self.rng.choice(names)
        if r < 0.4:
            return self.case_variant("INBOX")
        return self.case_variant(self.pick_existing())

    def op_append(self):
        s = self.session()
        mailbox = self.append_target()
        nmsg = 1 if self.rng.random() < 0.65 else self.rng.randint(2, 4)
        index = len(self.ops) + 1
        parts, dup = self.append_parts(mailbox, nmsg, index)
        text = "APPEND %s (%d message%s)" % (mailbox, nmsg,
                                             "s" if nmsg > 1 else "")
        text = _printable(b"".join(
            (p.prefix() + b" <%d bytes> " % len(p.data))
            if isinstance(p, Literal) and len(p.data) > 40 else
            (p.prefix() + b" " + p.data) if isinstance(p, Literal) else p
            for p in parts))
        op = self.begin({"APPEND"}, s.name, text)
        if dup:
            op.known.add("duplicate-keyword")
        resp = s.execute(parts)
        op.results.append(resp.short())
        op.responses += resp.untagged[-1500:] + resp.tagged
        self.end(op)

    def op_bad_literal_plus(self):
        """APPEND with \\Recent (Dovecot: BAD) and a LITERAL+ literal that
        holds a CREATE; Dovecot runs that CREATE (KNOWN bad-literal-plus)."""
        s = self.session()
        names = [n for n in MAILBOXES if self.norm(n) not in self.existing
                 and not any(c in n for c in ' "%')]
        if not names:
            return self.op_delete()
        name = self.rng.choice(names)
        inner = s.tag()
        smuggled = ("%s CREATE %s\r\n" % (inner, name)).encode()
        tag = s.tag()
        data = tag.encode() + b" APPEND INBOX (\\Recent) {%d+}\r\n" \
            % len(smuggled) + smuggled
        op = self.begin({"APPEND", "CREATE"}, s.name,
                        _printable(data))
        op.known.add("bad-literal-plus")
        # The CRLF that ends APPEND is an empty line to Dovecot (BAD).
        s.client.send(data + b"\r\n")
        got = s.read_until([tag, inner])
        op.results += [got[tag].short(), got[inner].short()]
        if got[inner].ok():
            self.existing.add(self.norm(name))
        self.end(op)

    # -- selected state (not compared yet) ---------------------------------

    def ensure_selected(self, s):
        if s.selected is None:
            self.op_select(s)
        return s.selected is not None

    def op_select(self, s=None):
        s = s or self.session()
        name = self.pick_existing() if self.rng.random() < 0.95 \
            else self.rng.choice(MAILBOXES)
        cmd = b"EXAMINE " if self.rng.random() < 0.15 else b"SELECT "
        s.exists = 0
        op, resp = self.simple(s, cmd.strip().decode(),
                               [cmd] + self.astring(self.case_variant(name)))
        if resp.ok():
            s.selected = self.norm(name)
            s.readonly = cmd == b"EXAMINE "
        else:
            s.selected = None

    def seqset(self, s):
        n = s.exists
        if n == 0:
            return None
        a = self.rng.randint(1, n)
        b = self.rng.randint(a, n)
        return self.rng.choice(["%d" % a, "%d:%d" % (a, b), "*", "1:*",
                                "%d,%d" % (a, b), "%d:*" % a])

    def op_store(self):
        s = self.session()
        if not self.ensure_selected(s):
            return
        uid = self.rng.random() < 0.4
        seq = "1:*" if uid and self.rng.random() < 0.5 else self.seqset(s)
        if seq is None:
            return self.op_append()
        item = self.rng.choice(["+FLAGS", "-FLAGS", "FLAGS"])
        if self.rng.random() < 0.3:
            item += ".SILENT"
        flags = self.rng.sample(SYSTEM_FLAGS + KEYWORDS,
                                self.rng.randint(0, 3))
        cmd = "%sSTORE %s %s (%s)" % ("UID " if uid else "", seq, item,
                                      " ".join(flags))
        self.simple(s, "STORE", [cmd.encode()])

    def op_copy(self):
        s = self.session()
        if not self.ensure_selected(s):
            return
        seq = self.seqset(s)
        if seq is None:
            return self.op_append()
        verb = self.rng.choice(["COPY", "MOVE"])
        uid = self.rng.random() < 0.3
        if uid:
            seq = self.rng.choice(["1:*", "*", "2:*"])
        target = self.pick_existing() if self.rng.random() < 0.9 \
            else self.rng.choice(MAILBOXES)
        parts = [("%s%s %s " % ("UID " if uid else "", verb, seq)).encode()
                 ] + self.astring(target)
        self.simple(s, verb, parts)

    def op_expunge(self):
        s = self.session()
        if not self.ensure_selected(s):
            return
        if s.exists and self.rng.random() < 0.5:
            # Mark something first, so that there is something to expunge.
            seq = self.seqset(s)
            self.simple(s, "STORE", [("STORE %s +FLAGS.SILENT (\\Deleted)"
                                      % seq).encode()])
        if self.rng.random() < 0.4:
            self.simple(s, "UID EXPUNGE", [("UID EXPUNGE %s" % self.rng.choice(
                ["1:*", "1:3", "*"])).encode()])
        else:
            self.simple(s, "EXPUNGE", [b"EXPUNGE"])

    def op_close(self):
        s = self.session()
        if not self.ensure_selected(s):
            return
        verb = "CLOSE" if self.rng.random() < 0.7 else "UNSELECT"
        self.simple(s, verb, [verb.encode()])
        s.selected = None
        s.exists = 0

    def op_fetch(self):
        s = self.session()
        if not self.ensure_selected(s):
            return
        seq = self.seqset(s)
        if seq is None:
            return self.op_append()
        item = self.rng.choice(["BODY[]", "BODY[]", "BODY.PEEK[HEADER]",
                                "(FLAGS UID)", "RFC822.SIZE", "BODY[TEXT]"])
        uid = self.rng.random() < 0.3
        self.simple(s, "FETCH", [("%sFETCH %s %s" % (
            "UID " if uid else "", seq, item)).encode()])

    def op_misc(self):
        s = self.session()
        r = self.rng.random()
        if r < 0.3:
            self.simple(s, "NOOP", [b"NOOP"])
        elif r < 0.6:
            name = self.pick_existing()
            self.simple(s, "STATUS", [b"STATUS "] + self.astring(name) +
                        [b" (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)"])
        else:
            self.list_command(s, self.rng.choice(sorted(
                self.LIST_COMMANDS)), op=True)

    # -- deliveries, bursts, sessions (not compared yet) -------------------

    def lmtp_message(self, index):
        return (b"From: dave@test.example\r\nTo: alice@test.example\r\n"
                b"Subject: delivered in op %d\r\n"
                b"Message-ID: <lmtp.%d.%d@diff.test>\r\n\r\nHello.\r\n"
                % (index, self.seed, index))

    def op_lmtp(self):
        index = len(self.ops) + 1
        op = self.begin({"LMTP"}, "lmtp", "LMTP delivery to INBOX")
        self.dovecot.lmtp_deliver(self.user, self.lmtp_message(index))
        self.end(op)

    def op_idle_lmtp(self):
        """One session IDLEs in INBOX while a message arrives over LMTP;
        it sees the EXISTS, then DONE."""
        s = self.session()
        if s.selected != "INBOX":
            s.exists = 0
            op, resp = self.simple(s, "SELECT", [b"SELECT INBOX"])
            if not resp.ok():
                return
            s.selected, s.readonly = "INBOX", False
        index = len(self.ops) + 1
        op = self.begin({"IDLE", "LMTP"}, s.name,
                        "NOOP, IDLE in INBOX, LMTP delivery, DONE")
        # NOOP first: what other sessions changed in INBOX (EXISTS,
        # EXPUNGE) arrives now, not in the IDLE.
        s.execute([b"NOOP"])
        tag = s.tag()
        before = s.exists
        s.client.send(tag.encode() + b" IDLE\r\n")
        if s.read_until([tag], stop_continuation=True) is not None:
            raise AssertionError("IDLE refused")
        self.dovecot.lmtp_deliver(self.user, self.lmtp_message(index))
        deadline = time.monotonic() + 10
        while s.exists <= before:
            if time.monotonic() > deadline:
                raise AssertionError("no EXISTS in IDLE after delivery")
            resp = s.client.read_response()
            s._track(resp)
        s.client.send(b"DONE\r\n")
        op.results.append(s.read_until([tag])[tag].short())
        self.end(op)

    def burst_command(self, s, index):
        """A command for a burst: no synchronizing literal."""
        r = self.rng.random()
        if r < 0.6:
            parts, dup = self.append_parts(self.append_target(),
                                           self.rng.randint(1, 2), index,
                                           plus_only=True)
            return "APPEND", parts, dup
        if r < 0.75 and s.selected and s.exists and not s.readonly:
            return "STORE", [("STORE %s +FLAGS (todo)" % self.seqset(s)
                              ).encode()], False
        if r < 0.85 and s.selected and s.exists:
            return "FETCH", [("FETCH %s (FLAGS)" % self.seqset(s)).encode()
                             ], False
        return "NOOP", [b"NOOP"], False

    def op_burst(self):
        """Both sessions at once: each command goes in pieces,
        interleaved, before either answer is read."""
        index = len(self.ops) + 1
        a, b = self.sessions["A"], self.sessions["B"]
        cmds = []
        for s in (a, b):
            kind, parts, dup = self.burst_command(s, index)
            cmds.append((s, s.tag(), kind, parts, dup))
        text = " || ".join("%s: %s" % (s.name, _printable(s.encode(parts)))
                           for s, _, _, parts, _ in cmds)
        op = self.begin({k for _, _, k, _, _ in cmds}, "A+B", text)
        if any(d for _, _, _, _, d in cmds):
            op.known.add("duplicate-keyword")
        data = [(s, (tag + " ").encode() + s.encode(parts))
                for s, tag, _, parts, _ in cmds]
        pieces = []
        for s, d in data:
            cuts = sorted(self.rng.sample(range(1, len(d)), 2)) \
                if len(d) > 3 else []
            edges = [0] + cuts + [len(d)]
            pieces.append([(s, d[edges[i]:edges[i + 1]])
                           for i in range(len(edges) - 1)])
        for i in range(max(len(p) for p in pieces)):
            for p in pieces:
                if i < len(p):
                    p[i][0].client.send(p[i][1])
        for s, tag, _, _, _ in cmds:
            resp = s.read_until([tag])[tag]
            op.results.append("%s: %s" % (s.name, resp.short()))
        self.end(op)

    def op_reconnect(self):
        """Session B goes (LOGOUT, or the connection just closes) and a
        new one takes its place (LOGIN or AUTHENTICATE PLAIN)."""
        old = self.sessions["B"]
        graceful = self.rng.random() < 0.7
        op = self.begin({"LOGOUT"} if graceful else {"CLOSE-CONNECTION"},
                        "B", "LOGOUT" if graceful else "connection closed")
        if graceful:
            op.results.append(old.logout().short())
        else:
            old.close()
        self.end(op)
        auth = self.rng.choice(["login", "plain"])
        op = self.begin({"LOGIN"}, "B", "new session, %s" % (
            "LOGIN" if auth == "login" else "AUTHENTICATE PLAIN"))
        self.sessions["B"] = self.new_session("B", auth)
        self.end(op)
