"""Differential test: what msgeventd inferred against what Dovecot did.

Dovecot records every event it sees itself (push-notification plugin,
Lua driver, tests/integration/dovecot_events.lua: harness.Dovecot(
push_lua=True)).  A seeded random workload (diff_ops.py) runs through
msgeventd for alice: CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE,
APPEND in every literal form with MULTIAPPEND and CATENATE, selected-
state commands (SELECT, STORE, COPY, MOVE, EXPUNGE, CLOSE, FETCH), an
LMTP delivery while a session IDLEs, two sessions at once.  msgeventd's
events go to rsyslog over UDP.  Then both records are compared, event
by event, for the types in COMPARED, keyed on (type, mailbox,
UIDVALIDITY, UID); for MessageAppend, FlagsSet and FlagsClear the flags
are compared too.  Rules F1-F2 (how Dovecot's flag events read as RFC
5423's), T1 and U0-U2 (what msgeventd marks truncated, or leaves out,
because it did not know), N1 (deliveries no session watched) and X1
(removals it cannot attribute) are written where they apply; each
follows what the README documents.  What msgeventd learns from a
session's LIST and LSUB replies (the hierarchy delimiter, the
subscription list) is followed per session by diff_ops (SubsKnowledge),
so that a SUBSCRIBE it cannot know to be redundant is a KNOWN
divergence and every other one must match.

    DIFF_SEED=N     the seed (default 1); a failure names the seed
    DIFF_OPS=N      how many random steps (default 400; a step is one
                    operation or a few: SELECT first, UNSELECT before DELETE)
    DIFF_STRICT=1   do not tolerate the KNOWN divergences of diff_ops
    DIFF_MESSAGENEW=1  compare MessageNew even when msgeventd reported
                    none (by default they are compared once it reports
                    any: see MESSAGENEW)
    DIFF_LOG=FILE   write every operation with both records' events there
                    (a failure writes it to a temporary file anyway)

    MSGEVENTD=build/msgeventd python3 tests/integration/run.py -v test_differential
"""

import base64
import datetime
import os
import re
import sys
import tempfile
import time
import unittest
import urllib.parse

import diff_ops
import harness
from harness import HOST, event_params, meta_params

SERVER_NAME = "mail.test.example"
USER = "alice"
SEED = int(os.environ.get("DIFF_SEED", "1"))
NOPS = int(os.environ.get("DIFF_OPS", "400"))
STRICT = os.environ.get("DIFF_STRICT", "") not in ("", "0")
FORCE_NEW = os.environ.get("DIFF_MESSAGENEW", "") not in ("", "0")

# The event types compared, and for each, the client commands whose
# events are compared (Dovecot also records what msgeventd does not
# infer yet: a copy is a MessageAppend to Dovecot).  msgeventd's events
# of a compared type are all compared, except those of a command that
# gives such events (PRODUCES) but is not listed: an event of a compared
# type from any other command is reported.  Enabling a type or a command
# is one line here.
COMPARED = {
    # APPEND and MULTIAPPEND, one event per message; COPY and MOVE
    # (Dovecot: MessageAppend in the target, one per message; msgeventd:
    # one for all, from COPYUID; their flags are not compared, see ATTRS).
    "MessageAppend": {"APPEND", "COPY", "MOVE"},
    "MailboxCreate": {"CREATE"},
    "MailboxDelete": {"DELETE"},
    "MailboxRename": {"RENAME"},
    "MailboxSubscribe": {"SUBSCRIBE"},
    "MailboxUnSubscribe": {"UNSUBSCRIBE"},
    "MessageExpunge": {"EXPUNGE", "UID EXPUNGE", "CLOSE", "MOVE"},
    "FlagsSet": {"STORE", "FETCH"},     # FETCH BODY[]: implicit \Seen
    "FlagsClear": {"STORE"},
    "MessageRead": {"STORE", "FETCH"},
    "MessageTrash": {"STORE"},
}

# MessageNew (Dovecot: a delivery over LMTP; msgeventd: an EXISTS that
# no proxied session's APPEND, COPY or MOVE explains, seen in IDLE, NOOP
# or any command) is compared once msgeventd's record holds any, or
# with DIFF_MESSAGENEW=1; before, both sides are only counted.  Compared,
# every msgeventd MessageNew must be a delivery Dovecot recorded (not
# another session's APPEND: issue 3's two-session rule), and every
# delivery during IDLE (diff_ops.op_idle_lmtp: a session in INBOX sees
# its EXISTS at once) must be reported, once; rule N1 tolerates
# deliveries no session was watching.
MESSAGENEW = {"MessageNew": {"LMTP"}}

# Flag events (RFC 5423 4.2).  msgeventd reports them as its default
# "flag-events simple" says: \Seen set is MessageRead, \Deleted set
# MessageTrash, other flags FlagsSet, cleared flags FlagsClear.
FLAG_TYPES = {"FlagsSet", "FlagsClear", "MessageRead", "MessageTrash"}

# What is compared besides the key (see Ev), per (type, command kind
# that caused Dovecot's event); (type, None) for the other commands.
ATTRS = {
    # The flags of APPEND's message; Dovecot gives a copy's flags too,
    # which msgeventd does not see in COPY or MOVE.
    ("MessageAppend", "APPEND"): ("flags",),
    ("MessageAppend", None): (),
    ("MessageNew", None): ("flags",),
    ("MailboxRename", None): ("old_mailbox",),
    ("FlagsSet", None): ("flags",),
    ("FlagsClear", None): ("flags",),
}


def attrs_for(type_, cause):
    return ATTRS.get((type_, cause), ATTRS.get((type_, None), ()))


# Dovecot's event names that differ from RFC 5423's (msgeventd's).
DOVECOT_NAMES = {"MailboxUnsubscribe": "MailboxUnSubscribe"}

# Which command kinds give which Dovecot events (Dovecot 2.3.19 as
# observed: DELETE expunges the messages first, FETCH BODY[] sets \Seen,
# a copy is a MessageAppend).  It tells which command of an operation
# with several (a burst) caused an event, and which of msgeventd's
# events come from commands not compared yet.
PRODUCES = {
    "CREATE": {"MailboxCreate"},
    "DELETE": {"MailboxDelete", "MessageExpunge"},
    "RENAME": {"MailboxRename"},
    "SUBSCRIBE": {"MailboxSubscribe"},
    "UNSUBSCRIBE": {"MailboxUnSubscribe"},
    "APPEND": {"MessageAppend"},
    "COPY": {"MessageAppend"},
    "MOVE": {"MessageAppend", "MessageExpunge"},
    "LMTP": {"MessageNew"},
    "STORE": {"FlagsSet", "FlagsClear", "MessageRead", "MessageTrash"},
    "FETCH": {"FlagsSet", "FlagsClear", "MessageRead"},
    "EXPUNGE": {"MessageExpunge"},
    "UID EXPUNGE": {"MessageExpunge"},
    "CLOSE": {"MessageExpunge"},
}

# Every event type some command gives.
PRODUCED = set().union(*PRODUCES.values())

# RFC 5092: enc-mailbox = 1*bchar; bchar = achar / ":" / "@" / "/";
# achar = uchar / "&" / "=" / "~"; uchar = unreserved / pct-encoded /
# sub-delims-sh / ":" / "@".
BCHARS_RE = re.compile(r"^(?:[A-Za-z0-9\-._~!$'()*+,:@&=/]|%[0-9A-Fa-f]{2})+$")
MAILBOX_URL_RE = re.compile(
    r"^imap://(?P<user>[^@/;]+)@(?P<host>[^/]+)/(?P<mbox>[^;]*)"
    r"(?:;UIDVALIDITY=(?P<uv>[1-9][0-9]*))?$")


def norm_mailbox(name):
    return diff_ops.Runner.norm(name) if name is not None else None


def norm_flags(flags):
    """Flags as a set to compare: case-insensitive (system flags are;
    Dovecot treats keywords so too: "(Work work)" is one keyword), without
    \\Recent (RFC 5423 flagNames never has it)."""
    return frozenset(f.lower() for f in flags if f.lower() != "\\recent")


def expand_uidset(s):
    out = []
    for part in s.split(","):
        a, _, b = part.partition(":")
        a = int(a)
        b = int(b) if b else a
        out += list(range(min(a, b), max(a, b) + 1))
    return out


# A FLAGS replace (RFC 9051 6.4.6 "FLAGS", not "+FLAGS" or "-FLAGS"),
# STORE or UID STORE, with or without an UNCHANGEDSINCE modifier.
_FLAGS_REPLACE_RE = re.compile(
    r"(?:^|\s)STORE\s+\S+\s+(?:\([^)]*\)\s+)?FLAGS(?:\.SILENT)?\s", re.I)

# Dovecot's log when its maildir renumbers a message itself.
_RENUMBER_RE = re.compile(
    r"^(\w{3}\s+\d+ \d\d:\d\d:\d\d) .*/mail/" + re.escape(USER) +
    r"/(?:\.([^/]+)/)?dovecot-uidlist: Duplicate file entry", re.M)


def mutf7_decode(name):
    """RFC 3501 5.1.3 modified UTF-7 (maildir folder names) to text."""
    out, i = [], 0
    while i < len(name):
        j = name.find("&", i)
        if j < 0:
            out.append(name[i:])
            break
        out.append(name[i:j])
        k = name.find("-", j)
        if k < 0:
            out.append(name[j:])
            break
        b64 = name[j + 1:k].replace(",", "/")
        if not b64:
            out.append("&")
        else:
            raw = base64.b64decode(b64 + "=" * (-len(b64) % 4))
            out.append(raw.decode("utf-16-be", "replace"))
        i = k + 1
    return "".join(out)


def dovecot_renumbered(log_text):
    """{mailbox: [epoch seconds of each "Duplicate file entry" warning]}
    from Dovecot's log (syslog-style local times without a year, whole
    seconds: the start of that second)."""
    out = {}
    year = time.localtime().tm_year
    for m in _RENUMBER_RE.finditer(log_text or ""):
        try:
            t = time.mktime(time.strptime("%d %s" % (year, m.group(1)),
                                          "%Y %b %d %H:%M:%S"))
        except ValueError:
            continue
        box = norm_mailbox(mutf7_decode(m.group(2)) if m.group(2)
                           else "INBOX")
        out.setdefault(box, []).append(t)
    return out


def parse_timestamp(s):
    try:
        dt = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
    except (TypeError, ValueError):
        return None
    return dt.replace(tzinfo=datetime.timezone.utc).timestamp()


class Ev:
    """One event of either record, normalized: the key and the compared
    attributes, where it came from (op) and what it was (raw)."""

    def __init__(self, src, type_, mailbox, uidvalidity=None, uid=None,
                 flags=None, old_mailbox=None, op=None, raw=None,
                 truncated=False):
        self.src = src
        self.type = type_
        self.mailbox = mailbox
        self.uidvalidity = uidvalidity
        self.uid = uid
        self.flags = flags
        self.old_mailbox = old_mailbox
        self.op = op
        self.raw = raw
        self.cause = None
        self.truncated = truncated  # msgeventd: vnd.msgeventd.truncated
        self.problems = []      # msgeventd's own inconsistencies

    def key(self):
        return (self.type, self.mailbox, self.uidvalidity, self.uid)

    def describe(self):
        s = "%s %r" % (self.type, self.mailbox)
        if self.uidvalidity is not None or self.uid is not None:
            s += " UIDVALIDITY=%s UID=%s" % (self.uidvalidity, self.uid)
        if self.old_mailbox is not None:
            s += " from %r" % self.old_mailbox
        if self.flags is not None:
            s += " flags=[%s]" % " ".join(sorted(self.flags))
        return s


def dovecot_ev(rec, op):
    """Dovecot's record REC as an Ev, or None when it is no event in RFC
    5423's sense, as rules F1 and F2 say."""
    type_ = DOVECOT_NAMES.get(rec.get("event"), rec.get("event"))
    flags = None
    if "flags" in rec or "keywords" in rec:
        flags = norm_flags(rec.get("flags", []) + rec.get("keywords", []))
    # Rule F1: Dovecot records a FlagsClear for every message whose flags
    # changed, with the flags cleared, none when only some were set; a
    # FlagsClear that cleared nothing is no event (RFC 5423 4.2: "had an
    # IMAP flag or keyword cleared").
    if type_ == "FlagsClear" and not flags:
        return None
    # Rule F2: Dovecot records \Seen and \Deleted set both in FlagsSet
    # and as MessageRead / MessageTrash; msgeventd's default reports them
    # as MessageRead / MessageTrash only (RFC 5423 4.2 "the simpler
    # message forms"), so they leave Dovecot's FlagsSet, and a FlagsSet
    # of nothing else is no event.
    if type_ == "FlagsSet" and flags is not None:
        flags = flags - {"\\seen", "\\deleted"}
        if not flags:
            return None
    uv = rec.get("uidvalidity")
    uid = rec.get("uid")
    return Ev("dovecot", type_, norm_mailbox(rec.get("mailbox")),
              int(uv) if uv is not None else None,
              int(uid) if uid is not None else None, flags,
              norm_mailbox(rec.get("mailbox_old")), op, rec)


def parse_mailbox_url(value, problems, what):
    """(mailbox, uidvalidity) from a mailboxID; PROBLEMS gets what is
    wrong with it."""
    m = MAILBOX_URL_RE.match(value or "")
    if not m:
        problems.append("%s is no mailbox URL: %r" % (what, value))
        return None, None
    if m.group("user") != USER:
        problems.append("%s names user %r" % (what, m.group("user")))
    if m.group("host") != SERVER_NAME:
        problems.append("%s names server %r" % (what, m.group("host")))
    enc = m.group("mbox")
    if not BCHARS_RE.match(enc):
        problems.append("%s: mailbox %r is not RFC 5092 enc-mailbox"
                        % (what, enc))
    try:
        name = urllib.parse.unquote(enc, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        problems.append("%s: mailbox %r is not UTF-8" % (what, enc))
        name = urllib.parse.unquote(enc, errors="replace")
    uv = int(m.group("uv")) if m.group("uv") else None
    return norm_mailbox(name), uv


def msgeventd_evs(rec, op):
    """The Ev(s) of one msgeventd message: one per UID of its uidset."""
    p = event_params(rec)
    type_ = rec.get("msgid")
    problems = []
    if p.get("user") != USER:
        problems.append("user=%r" % p.get("user"))
    mailbox, uv = parse_mailbox_url(p.get("mailboxID"), problems,
                                    "mailboxID")
    old = None
    if type_ == "MailboxRename":
        old, _ = parse_mailbox_url(p.get("oldMailboxID"), problems,
                                   "oldMailboxID")
    flags = None
    if type_ in ("MessageAppend", "MessageNew", "FlagsSet", "FlagsClear"):
        flags = norm_flags(p.get("flagNames", "").split())
    uids = [None]
    if "uidset" in p:
        try:
            uids = expand_uidset(p["uidset"])
        except ValueError:
            problems.append("uidset=%r" % p["uidset"])
    truncated = p.get("vnd.msgeventd.truncated") == "1"
    # uri: the mailbox's URL, a message's adds /;UID= (README).  Rule T1:
    # an event marked truncated may stand for more messages than its
    # uidset names (README: the UIDs that are known), so one UID in it
    # does not make it a message's event: its uri is the mailbox's.
    if "uri" in p and "mailboxID" in p:
        want = p["mailboxID"]
        if len(uids) == 1 and uids[0] is not None and not truncated:
            want += "/;UID=%d" % uids[0]
        if type_.startswith("Mailbox") or len(uids) == 1:
            if p["uri"] != want:
                problems.append("uri=%r, expected %r" % (p["uri"], want))
    out = []
    for uid in uids:
        ev = Ev("msgeventd", type_, mailbox, uv, uid, flags, old, op, rec,
                truncated)
        ev.problems = problems
        out.append(ev)
    return out


class Comparison:
    """Both records matched up; .failures() is empty when they agree."""

    def __init__(self, ops, dovecot_records, msgeventd_records,
                 dovecot_log=""):
        self.ops = {op.index: op for op in ops}
        self.ops_list = ops
        self.renumbered = dovecot_renumbered(dovecot_log)
        self.dovecot = []
        for rec in dovecot_records:
            op = self.ops.get(rec.get("_op"))
            ev = dovecot_ev(rec, op)
            if ev is None:
                continue
            ev.cause = self.cause(ev, op)
            self.dovecot.append(ev)
        self.msgeventd = []
        for rec in msgeventd_records:
            p = event_params(rec)
            port = int(p["clientPort"]) if p.get("clientPort", "").isdigit() \
                else None
            op = self.op_at(parse_timestamp(p.get("timestamp")), port)
            self.msgeventd.extend(msgeventd_evs(rec, op))
        self.compared = dict(COMPARED)
        if FORCE_NEW or any(ev.type == "MessageNew"
                            for ev in self.msgeventd):
            self.compared.update(MESSAGENEW)
        self.matched = {}       # type -> count
        self.missing = []       # Dovecot's, not in msgeventd's
        self.extra = []         # msgeventd's, not in Dovecot's
        self.different = []     # (dovecot ev, msgeventd ev, what)
        self.malformed = []     # msgeventd ev with problems
        self.tolerated = []     # (kind, text, op)
        self.unknown = []       # Dovecot's, unknown to msgeventd (U1, U2)
        self.announced = []     # msgeventd's, another's removal (X1)
        self.not_compared = {}  # Dovecot's: (type, cause) -> count
        self.mev_not_compared = {}  # msgeventd's likewise
        self.mev_other = {}     # msgeventd's events Dovecot has no kind of
        self.compare()

    @staticmethod
    def cause(ev, op):
        """The command kind of OP that gave Dovecot's event EV."""
        if op is None:
            return "before the workload"
        if len(op.kinds) == 1:
            return next(iter(op.kinds))
        cands = sorted(k for k in op.kinds
                       if ev.type in PRODUCES.get(k, ()))
        if len(cands) == 1:
            return cands[0]
        return "/".join(cands or sorted(op.kinds))

    def op_at(self, ts, port):
        """The operation running at wall-clock time TS (msgeventd's
        timestamp) on client port PORT; else the nearest in time."""
        if ts is None or not self.ops_list:
            return None
        inside = [op for op in self.ops_list
                  if op.t_start <= ts <= op.t_end]
        for op in inside:
            if port in op.ports:
                return op
        if inside:
            return inside[0]
        cands = [op for op in self.ops_list if port in op.ports] \
            or self.ops_list
        return min(cands, key=lambda op: min(abs(ts - op.t_start),
                                             abs(ts - op.t_end)))

    def is_compared(self, ev):
        """Dovecot's event EV is compared: its type and cause are in
        COMPARED."""
        causes = self.compared.get(ev.type)
        if causes is None:
            return False
        return any(c in causes for c in ev.cause.split("/"))

    def mev_is_compared(self, ev):
        """msgeventd's event EV is compared: its type is in COMPARED,
        unless it comes from a command that gives such events but is not
        compared yet (msgeventd may learn COPY before COMPARED has it).
        From any other command it is compared, and so reported."""
        causes = self.compared.get(ev.type)
        if causes is None:
            return False
        kinds = ev.cause.split("/")
        if any(c in causes for c in kinds):
            return True
        return not all(ev.type in PRODUCES.get(c, ()) for c in kinds)

    def tolerate(self, ev_or_op, type_):
        """True if the op behind it is marked with a KNOWN divergence
        that explains a difference in events of TYPE_."""
        if STRICT:
            return False
        op = ev_or_op
        if op is None:
            return False
        return any(type_ in diff_ops.KNOWN.get(k, ()) for k in op.known)

    def compare(self):
        dov = {}
        for ev in self.dovecot:
            if self.is_compared(ev):
                dov.setdefault(ev.key(), []).append(ev)
            else:
                k = (ev.type, ev.cause)
                self.not_compared[k] = self.not_compared.get(k, 0) + 1
        mev = {}
        # msgeventd's compared events by (op, mailbox, type, client
        # port), for U1/U2
        self.mev_by_op = {}
        for ev in self.msgeventd:
            ev.cause = self.cause(ev, ev.op)
            if self.mev_is_compared(ev):
                port = event_params(ev.raw).get("clientPort", "")
                self.mev_by_op.setdefault(
                    (ev.op.index if ev.op else None, ev.mailbox, ev.type,
                     int(port) if port.isdigit() else None),
                    []).append(ev)
                if ev.problems:
                    self.malformed.append(ev)
                # Rule U0: an event marked truncated without a uidset
                # (README: a MessageExpunge whose UIDs were all unknown)
                # says "something, unknown what"; it names no message to
                # compare, and lets U1 apply to its operation.
                if ev.truncated and ev.uid is None and \
                        ev.type in ("MessageExpunge", "MessageNew") + \
                        tuple(FLAG_TYPES):
                    continue
                mev.setdefault(ev.key(), []).append(ev)
            elif ev.type in PRODUCED:
                k = (ev.type, ev.cause)
                self.mev_not_compared[k] = \
                    self.mev_not_compared.get(k, 0) + 1
            else:
                self.mev_other[ev.type] = self.mev_other.get(ev.type, 0) + 1
        for key in sorted(set(dov) | set(mev), key=repr):
            ds, ms = self.pair(dov.get(key, []), mev.get(key, []))
            for d, m in zip(ds, ms):
                self.matched[d.type] = self.matched.get(d.type, 0) + 1
                for attr in attrs_for(d.type, d.cause):
                    dv, mv = getattr(d, attr), getattr(m, attr)
                    if dv != mv:
                        what = "%s: Dovecot %s, msgeventd %s" % (
                            attr, self.fmt(dv), self.fmt(mv))
                        if self.tolerate(d.op, d.type):
                            self.tolerated.append(
                                ("different", d.describe() + ": " + what,
                                 d.op))
                        else:
                            self.different.append((d, m, what))
            for d in ds[len(ms):]:
                if self.hidden_by_other_session(d):
                    d.op.known.add("other-session-flags")
                if self.tolerate(d.op, d.type):
                    self.tolerated.append(("missing", d.describe(), d.op))
                elif self.unknowable(d):
                    self.unknown.append(d)
                else:
                    self.missing.append(d)
            for m in ms[len(ds):]:
                if self.tolerate(m.op, m.type):
                    self.tolerated.append(("extra", m.describe(), m.op))
                elif self.announced_removal(m, ds):
                    self.announced.append(m)
                else:
                    self.extra.append(m)
        self.renumbered_by_dovecot()

    def hidden_by_other_session(self, d):
        """Dovecot's FlagsClear D, missing from msgeventd's record, is
        the case imap_infer.c calls "what stays hidden": D's operation is
        a FLAGS replace (STORE ... FLAGS, not +FLAGS or -FLAGS) of one
        session, and every flag it cleared was last set on that message
        by an operation of another session after the replacing session's
        previous operation (so the server had not told it yet; its reply
        to the replace reads the same either way).  Nothing else."""
        op = d.op
        if d.type != "FlagsClear" or op is None or not d.flags or \
                "+" in op.session or not _FLAGS_REPLACE_RE.search(op.text):
            return False
        before = [o.index for o in self.ops_list
                  if o.session == op.session and o.index < op.index]
        last_own = max(before) if before else -1
        for flag in d.flags:
            latest = None
            for e in self.dovecot:
                if e.op is None or e.op.index >= op.index or \
                        e.key()[1:] != d.key()[1:]:
                    continue
                sets = (e.type == "MessageRead" and flag == "\\seen") or \
                    (e.type == "MessageTrash" and flag == "\\deleted") or \
                    (e.type == "FlagsSet" and flag in (e.flags or ()))
                clears = e.type == "FlagsClear" and flag in (e.flags or ())
                if sets or clears:
                    latest = (e, sets)
            if latest is None or not latest[1]:
                return False
            setter = latest[0].op
            if "+" in setter.session or setter.session == op.session or \
                    setter.index <= last_own:
                return False
        return True

    def renumbered_by_dovecot(self):
        """Dovecot's maildir gave messages new UIDs itself (its log:
        "dovecot-uidlist: Duplicate file entry ... (uid 12 -> 28)") and
        recorded nothing; msgeventd, seeing the old UID go and the new
        one come with no session through it acting there, reports an
        external MessageExpunge and a MessageNew.  Extra events of those
        two kinds in a mailbox whose uidlist Dovecot renumbered, from the
        first such warning on, at most one of each kind per warning, are
        that; more of them, or others, are not."""
        for box, stamps in self.renumbered.items():
            first = min(stamps)
            cands = [m for m in self.extra if m.mailbox == box and
                     m.op is not None and m.op.t_end is not None and
                     m.op.t_end >= first and
                     (m.type == "MessageNew" or
                      (m.type == "MessageExpunge" and
                       event_params(m.raw).get("vnd.msgeventd.cause") ==
                       "external"))]
            gone = [m for m in cands if m.type == "MessageExpunge"]
            new = [m for m in cands if m.type == "MessageNew"]
            if not cands or len(gone) > len(stamps) or \
                    len(new) > len(stamps):
                continue
            for m in cands:
                m.op.known.add("dovecot-renumbered")
                if self.tolerate(m.op, m.type):
                    self.extra.remove(m)
                    self.tolerated.append(("extra", m.describe(), m.op))

    def unknowable(self, d):
        """Dovecot's event D, which msgeventd did not report, is one the
        README says msgeventd leaves out, never guessing: what it did not
        know (the message's UID, or its flags before).

        Rule U1: msgeventd marks truncated every event of a command some
        of whose messages it could not tell ("uidset then holds the UIDs
        that are known"): a message of that operation, mailbox and type
        missing from a truncated event is one of those.  For flag events
        the whole command is truncated or not, so any truncated flag
        event of the operation and mailbox stands for all four types.

        Rule U2: a command none of whose messages' flags (or UIDs) were
        known gives no flag event at all (README), nor does a CLOSE none
        of whose messages was known to carry \\Deleted: a flag event, or
        a CLOSE's MessageExpunge, of an operation and mailbox for which
        msgeventd reported no event of its kind.  A flag event missing
        beside an event msgeventd did not mark truncated is a failure.

        Both rules look at one session: Dovecot's record does not say
        which session caused an event, so in an operation of two sessions
        (a burst) they apply if they hold for either.

        Rule N1: a delivery (MessageNew) is seen only as an EXISTS in a
        session that has the mailbox selected and runs a command (README:
        msgeventd sees what passes through it); one delivered while no
        session was in IDLE in INBOX may go unseen.  A delivery during
        IDLE (diff_ops.op_idle_lmtp) was seen and must be reported."""
        if d.type == "MessageNew":
            return d.op is None or "IDLE" not in d.op.kinds
        op = d.op.index if d.op else None
        for port in (d.op.ports if d.op and d.op.ports else {None}):
            if d.type in FLAG_TYPES:
                evs = [e for t in FLAG_TYPES for e in self.mev_by_op.get(
                    (op, d.mailbox, t, port), [])]
                if all(e.truncated for e in evs):
                    return True
            elif d.type == "MessageExpunge":
                evs = self.mev_by_op.get((op, d.mailbox, d.type, port), [])
                if evs and all(e.truncated for e in evs):
                    return True
                if not evs and "CLOSE" in d.cause.split("/"):
                    return True
        return False

    def announced_removal(self, m, ds):
        """Rule X1: msgeventd's MessageExpunge M of an EXPUNGE (or UID
        EXPUNGE of a set holding it, or a MOVE without COPYUID, e.g. one
        answered NO [EXPUNGEISSUED]) for a message Dovecot says another
        operation removed before (DS: Dovecot's events of the same key,
        all paired already).  The README: "Removals by other sessions
        that a server announces during an EXPUNGE cannot be told from
        the EXPUNGE's own" - Dovecot tells a session of the others'
        removals when it next runs a command."""
        if m.type != "MessageExpunge" or m.op is None:
            return False
        if not {"EXPUNGE", "UID EXPUNGE", "MOVE"} & \
                set(m.cause.split("/")):
            return False
        return any(d.op is not None and d.op.index < m.op.index
                   for d in ds)

    @staticmethod
    def pair(ds, ms):
        """Order two lists of events with the same key so that zip()
        pairs those of the same operation first, then the rest in
        order; the unpaired ones end up at the end of the longer."""
        ds, ms = list(ds), list(ms)
        pd, pm = [], []
        for d in list(ds):
            for m in ms:
                if m.op is d.op and d.op is not None:
                    pd.append(d)
                    pm.append(m)
                    ds.remove(d)
                    ms.remove(m)
                    break
        return pd + ds, pm + ms

    @staticmethod
    def fmt(v):
        if isinstance(v, frozenset):
            return "[%s]" % " ".join(sorted(v))
        return repr(v)

    def failures(self):
        return (self.missing or self.extra or self.different or
                self.malformed)

    def _count(self, evs):
        counts = {}
        for ev in evs:
            counts[ev.type] = counts.get(ev.type, 0) + 1
        return ", ".join("%s %d" % kv for kv in sorted(counts.items()))

    # -- reports -------------------------------------------------------------

    def summary(self):
        lines = ["  compared, per message: " + ", ".join(
            "%s %d" % (t, self.matched.get(t, 0))
            for t in sorted(self.compared))]
        if "MessageNew" not in self.compared:
            lines.append("  MessageNew not compared: msgeventd reported "
                         "none (DIFF_MESSAGENEW=1 compares anyway)")
        if self.unknown:
            lines.append("  not reported, unknown to msgeventd (rules U1, "
                         "U2, N1), per message: " +
                         self._count(self.unknown))
        if self.announced:
            lines.append("  reported twice, another session's removal "
                         "(rule X1), per message: " +
                         self._count(self.announced))
        if self.tolerated:
            lines.append("  tolerated (KNOWN divergences, DIFF_STRICT=1 "
                         "fails on them):")
            counts = {}
            for kind, text, op in self.tolerated:
                names = ",".join(sorted(op.known)) if op else "?"
                counts[(kind, names)] = counts.get((kind, names), 0) + 1
            for (kind, names), n in sorted(counts.items()):
                lines.append("    %3d %s (%s)" % (n, kind, names))
        if self.not_compared or self.mev_not_compared:
            lines.append("  not compared yet, per message (Dovecot/msgeventd "
                         "by command):")
            for t in sorted({t for t, _ in self.not_compared} |
                            {t for t, _ in self.mev_not_compared}):
                causes = sorted({c for tt, c in self.not_compared
                                 if tt == t} |
                                {c for tt, c in self.mev_not_compared
                                 if tt == t})
                lines.append("    %-18s %s" % (t, ", ".join(
                    "%s %d/%d" % (c, self.not_compared.get((t, c), 0),
                                  self.mev_not_compared.get((t, c), 0))
                    for c in causes)))
        if self.mev_other:
            lines.append("  msgeventd's other events: " + ", ".join(
                "%s %d" % kv for kv in sorted(self.mev_other.items())))
        return "\n".join(lines)

    def report(self):
        def where(ev):
            if ev.op is None:
                return "   (no operation)"
            return "   <- " + ev.op.describe()

        lines = []
        involved = {}
        for ev in self.missing + self.extra + [d for d, _, _ in
                                               self.different] + \
                self.malformed:
            if ev.op is not None:
                involved[ev.op.index] = ev.op
        if self.missing:
            lines.append("MISSING from msgeventd (Dovecot recorded it, "
                         "msgeventd did not report it): %d"
                         % len(self.missing))
            for ev in self.missing:
                lines += ["  " + ev.describe(), where(ev)]
        if self.extra:
            lines.append("EXTRA in msgeventd (msgeventd reported it, "
                         "Dovecot recorded nothing like it): %d"
                         % len(self.extra))
            for ev in self.extra:
                p = event_params(ev.raw)
                lines += ["  %s (msgeventd session %s)" % (
                    ev.describe(), p.get("vnd.msgeventd.session")),
                    "     " + " ".join(
                        '%s="%s"' % (k, p[k]) for k in (
                            "mailboxID", "oldMailboxID", "uidset",
                            "flagNames", "uri") if k in p),
                    where(ev)]
        if self.different:
            lines.append("DIFFERENT (same event, other values): %d"
                         % len(self.different))
            for d, m, what in self.different:
                lines += ["  %s: %s" % (d.describe(), what), where(d)]
        if self.malformed:
            lines.append("MALFORMED msgeventd events: %d"
                         % len(self.malformed))
            seen = set()
            for ev in self.malformed:
                if id(ev.raw) in seen:
                    continue
                seen.add(id(ev.raw))
                lines += ["  %s: %s" % (ev.describe(),
                                        "; ".join(ev.problems)), where(ev)]
        shown = [op for _, op in sorted(involved.items())
                 if op.responses][:10]
        if shown:
            lines.append("What the server answered there:")
            for op in shown:
                lines.append("  op #%d:" % op.index)
                lines += ["    " + line for line in op.responses.decode(
                    "utf-8", "replace").splitlines()[-12:]]
        return "\n".join(lines)

    def full_log(self):
        """Every operation with the events of both records it caused."""
        by_op = {}
        for ev in self.msgeventd:
            by_op.setdefault(ev.op.index if ev.op else 0, []).append(ev)
        out = []
        for op in self.ops_list:
            out.append(op.describe())
            for ev in self.dovecot:
                if ev.op is op:
                    out.append("    dovecot   %s [%s]" % (ev.describe(),
                                                         ev.cause))
            for ev in by_op.get(op.index, []):
                out.append("    msgeventd %s" % ev.describe())
        return "\n".join(out) + "\n"


PUSH_LUA_MISSING = harness.Dovecot.push_lua_missing()


@unittest.skipIf(PUSH_LUA_MISSING, PUSH_LUA_MISSING or "")
class Differential(unittest.TestCase):

    def setUp(self):
        self.dovecot = harness.Dovecot(push_lua=True).start()
        self.addCleanup(self.dovecot.stop)
        # INBOX exists before the workload: Dovecot creates it on first
        # use and records a MailboxCreate that no command caused.
        c = self.dovecot.imap(USER)
        c.select("INBOX")
        c.logout()
        self.rsyslog = harness.Rsyslog().start()
        self.addCleanup(self.rsyslog.stop)
        self.port = harness.free_port()
        config = ("# test_differential.py\n"
                  "server-name %s\n"
                  "listen imap %s:%d backend %s:%d\n"
                  "output syslog udp://%s:%d\n"
                  "shutdown-grace 1\n"
                  % (SERVER_NAME, HOST, self.port, HOST,
                     self.dovecot.imap_port, HOST, self.rsyslog.udp_port))
        self.msgeventd = harness.Msgeventd(config, [self.port]).start()
        self.addCleanup(self.msgeventd.stop)

    def reproduce(self):
        return ("DIFF_SEED=%d DIFF_OPS=%d%s MSGEVENTD=%s python3 "
                "tests/integration/run.py -v test_differential"
                % (SEED, NOPS, " DIFF_STRICT=1" if STRICT else "",
                   self.msgeventd.binary))

    def run_workload(self):
        runner = diff_ops.Runner(SEED, self.port, self.dovecot, USER)
        try:
            runner.run(NOPS)
            runner.finish()
        except Exception as e:
            runner.close()
            last = "\n".join("  " + op.describe() for op in runner.ops[-8:])
            if runner.current is not None and \
                    runner.current not in runner.ops:
                last += "\n  under way: " + runner.current.describe()
            raise AssertionError(
                "workload failed (seed %d) after op #%d: %s: %s\n"
                "last operations:\n%s\nmsgeventd %s; reproduce with:\n  %s"
                % (SEED, len(runner.ops), type(e).__name__, e, last,
                   "alive" if self.msgeventd.alive() else "DEAD",
                   self.reproduce())) from e
        return runner

    def wait_records(self, runner):
        """Poll until both records are complete: Dovecot's stops growing
        (it writes before it answers, so it is complete already), and
        msgeventd's has every session's Logout (its last event) and no
        gap in sequenceId (UDP)."""
        state = {"n": -1, "since": time.monotonic()}

        def dovecot_stable(events):
            now = time.monotonic()
            if len(events) != state["n"]:
                state["n"], state["since"] = len(events), now
                return None
            return events if now - state["since"] >= 0.2 else None
        dovecot = self.dovecot.wait_push_events(
            dovecot_stable, 10, "Dovecot's record to stop growing")

        ports = {str(p) for p in runner.all_ports}

        def complete(records):
            seq = sorted(int(meta_params(r).get("sequenceId", 0))
                         for r in records)
            if seq != list(range(1, len(seq) + 1)):
                return None
            out = {event_params(r).get("clientPort") for r in records
                   if r.get("msgid") == "Logout"}
            return records if ports <= out else None
        try:
            records = self.rsyslog.wait_for(
                complete, 15, "msgeventd's Logout for every session")
        except AssertionError:
            records = self.rsyslog.records()
            seq = sorted(int(meta_params(r).get("sequenceId", 0))
                         for r in records)
            lost = sorted(set(range(1, (seq or [0])[-1] + 1)) - set(seq))
            logouts = {event_params(r).get("clientPort") for r in records
                       if r.get("msgid") == "Logout"}
            self.fail("msgeventd's record is incomplete (seed %d): "
                      "sequenceIds missing %s; no Logout for client ports "
                      "%s; msgeventd stderr:\n%s"
                      % (SEED, lost[:20], sorted(ports - logouts),
                         self.msgeventd.stderr().decode("utf-8",
                                                        "replace")[-3000:]))
        return dovecot, records

    def test_differential(self):
        start = time.monotonic()
        runner = self.run_workload()
        ran = time.monotonic() - start
        dovecot, records = self.wait_records(runner)
        self.msgeventd.assert_alive()
        # push_events() re-reads the file: take the op of each event from
        # the runner's windows (the same events, the same order).
        windowed = [ev for op in runner.ops for ev in op.dovecot]
        self.assertEqual(len(windowed), len(dovecot) - runner.baseline,
                         "Dovecot recorded events outside any operation")
        mine = records      # all alice's; Comparison checks the user
        try:
            with open(self.dovecot.log, errors="replace") as f:
                dovecot_log = f.read()
        except OSError:
            dovecot_log = ""
        cmp = Comparison(runner.ops, windowed, mine, dovecot_log)
        elapsed = time.monotonic() - start
        summary = ("differential: seed %d, %d steps (%d operations) in "
                   "%.1f s (%.1f s with setup and waiting), %d Dovecot "
                   "events, %d msgeventd events\n%s"
                   % (SEED, NOPS, len(runner.ops), ran, elapsed,
                      len(windowed), len(mine), cmp.summary()))
        sys.stderr.write("\n" + summary + "\n")
        if os.environ.get("DIFF_LOG"):
            with open(os.environ["DIFF_LOG"], "w") as f:
                f.write(summary + "\n\n" + cmp.report() + "\n\n" +
                        cmp.full_log())
        if cmp.failures():
            fd, path = tempfile.mkstemp(
                prefix="msgeventd-differential-seed%d-" % SEED,
                suffix=".log")
            with os.fdopen(fd, "w") as f:
                f.write(summary + "\n\n" + cmp.report() + "\n\n" +
                        cmp.full_log())
            stderr = self.msgeventd.stderr().decode("utf-8", "replace")
            notes = [line for line in stderr.splitlines()
                     if "warning" in line or "error" in line]
            # A failing Lua script would leave Dovecot's record short.
            try:
                with open(self.dovecot.log, errors="replace") as f:
                    errors = [line.rstrip() for line in f
                              if "Error" in line or "Panic" in line]
            except OSError:
                errors = []
            self.fail("msgeventd and Dovecot disagree (seed %d):\n%s\n\n"
                      "msgeventd's warnings:\n%s\n"
                      "Dovecot's errors:\n%s\n"
                      "every operation with both records: %s\n"
                      "reproduce with:\n  %s"
                      % (SEED, cmp.report(),
                         "\n".join(notes[-20:]) or "  (none)",
                         "\n".join(errors[-10:]) or "  (none)", path,
                         self.reproduce()))
        # The workload must have exercised what is compared.
        if NOPS >= 100:
            for t in ("MessageAppend", "MailboxCreate", "MailboxRename"):
                self.assertGreater(cmp.matched.get(t, 0), 0,
                                   "no %s compared (seed %d)" % (t, SEED))


if __name__ == "__main__":
    unittest.main()
