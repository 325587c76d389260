# Flags the proxy does not know give no event, never a guess: a
# message whose UID or flags before were never told (no FETCH of them),
# or whose flags another session changed unseen.  The events of the
# messages that are known go out marked truncated (the uidset is what
# is known), and the others are counted (imap_infer_flags_unknown()).
C: a1 LOGIN alice secret
S: a1 OK Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 SELECT Work
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.
S: * 3 EXISTS
S: * OK [UIDVALIDITY 9] UIDs valid
S: b1 OK [READ-WRITE] Select completed.
# Nothing known: the server's reports tell the flags now, not what
# changed, and without UIDs they cannot even be kept.
C: b2 STORE 1:3 +FLAGS (\Seen)
S: * 1 FETCH (FLAGS (\Seen))
S: * 2 FETCH (FLAGS (\Seen))
S: * 3 FETCH (FLAGS (\Seen \Flagged))
S: b2 OK Store completed.
E: -
# UIDs known now, flags still not
C: b3 FETCH 1:3 (UID)
S: * 1 FETCH (UID 21)
S: * 2 FETCH (UID 22)
S: * 3 FETCH (UID 23)
S: b3 OK Fetch completed.
C: b4 STORE 1:3 -FLAGS (\Seen)
S: * 1 FETCH (FLAGS ())
S: * 2 FETCH (FLAGS ())
S: * 3 FETCH (FLAGS (\Flagged))
S: b4 OK Store completed.
E: -
# ... but these reports are the flags now: the next STORE knows them
C: b5 STORE 1:2 +FLAGS (\Answered)
S: * 1 FETCH (FLAGS (\Answered))
S: * 2 FETCH (FLAGS (\Answered))
S: b5 OK Store completed.
E: FlagsSet user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Work;UIDVALIDITY=9 mailboxID=imap://alice@mail.example.net/Work;UIDVALIDITY=9 uidset=21:22 flagNames=\Answered
# A new message, its UID unknown: the known ones' events say truncated
S: * 4 EXISTS
C: b6 STORE 2:4 +FLAGS.SILENT (\Seen)
S: b6 OK Store completed.
E: MessageRead user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Work;UIDVALIDITY=9 mailboxID=imap://alice@mail.example.net/Work;UIDVALIDITY=9 uidset=22:23 (truncated)
# A UID STORE of every UID: message 4's UID (between 23 and UIDNEXT)
# may be in the set, so the events say truncated
S: * OK [UIDNEXT 30] Predicted next UID
C: b7 UID STORE 1:* +FLAGS.SILENT (\Draft)
S: b7 OK Store completed.
E: FlagsSet user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Work;UIDVALIDITY=9 mailboxID=imap://alice@mail.example.net/Work;UIDVALIDITY=9 uidset=21:23 flagNames=\Draft (truncated)
# ... but not when it cannot be in it
C: b8 UID STORE 21:22 -FLAGS.SILENT (\Draft)
S: b8 OK Store completed.
E: FlagsClear user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Work;UIDVALIDITY=9 mailboxID=imap://alice@mail.example.net/Work;UIDVALIDITY=9 uidset=21:22 flagNames=\Draft
# Unsolicited FETCH (another session's change) updates what is known,
# and gives no event here
C: b9 NOOP
S: * 1 FETCH (FLAGS (\Answered \Flagged))
S: * 4 FETCH (FLAGS (\Deleted))
S: b9 OK NOOP completed.
E: -
C: c1 STORE 1 -FLAGS (\Flagged)
S: * 1 FETCH (FLAGS (\Answered))
S: c1 OK Store completed.
E: FlagsClear user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Work;UIDVALIDITY=9/;UID=21 mailboxID=imap://alice@mail.example.net/Work;UIDVALIDITY=9 uidset=21 flagNames=\Flagged
# Another session set \Deleted on message 2 and the server tells it only
# in the reply to this STORE: the report does not follow from what was
# known (\Answered \Seen with +$Label is not what it says), so what this
# STORE did to message 2 is unknown; message 3's change is known.
C: c2 STORE 2:3 +FLAGS ($Label)
S: * 2 FETCH (FLAGS (\Answered \Seen \Deleted $Label))
S: * 3 FETCH (FLAGS (\Flagged \Seen \Draft $Label))
S: c2 OK Store completed.
E: FlagsSet user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Work;UIDVALIDITY=9 mailboxID=imap://alice@mail.example.net/Work;UIDVALIDITY=9 uidset=23 flagNames=$Label (truncated)
# Messages outside the set reported meanwhile are someone else's: the
# cache learns their flags, no event.  And since the server is telling
# other sessions' changes now, what it reports for this STORE's message
# may be theirs too (had one removed \Seen, the report would read the
# same): unknown.
C: c3 STORE 3 -FLAGS (\Seen)
S: * 1 FETCH (FLAGS (\Answered \Seen))
S: * 3 FETCH (FLAGS (\Flagged \Draft $Label))
S: c3 OK Store completed.
E: -
C: c4 STORE 1 -FLAGS.SILENT (\Seen)
S: c4 OK Store completed.
E: FlagsClear user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Work;UIDVALIDITY=9/;UID=21 mailboxID=imap://alice@mail.example.net/Work;UIDVALIDITY=9 uidset=21 flagNames=\Seen
# A new SELECT forgets everything
C: c5 SELECT Work
S: * 4 EXISTS
S: * OK [UIDVALIDITY 9] UIDs valid
S: c5 OK [READ-WRITE] Select completed.
C: c6 UID STORE 21 +FLAGS (\Seen)
S: * 1 FETCH (UID 21 FLAGS (\Answered \Seen))
S: c6 OK Store completed.
E: -
C: c7 FETCH 2:4 (UID FLAGS)
S: * 2 FETCH (UID 22 FLAGS ())
S: * 3 FETCH (UID 23 FLAGS ())
S: * 4 FETCH (UID 24 FLAGS ())
S: c7 OK Fetch completed.
# Without .SILENT the server reports the messages it changed (RFC 9051
# 6.4.6; Dovecot reports exactly those): message 3, of which it says
# nothing, did not change - another session had set \Flagged on it,
# unseen.  No event for it, and its cached flags, stale, are forgotten.
C: c8 STORE 2:4 +FLAGS (\Flagged)
S: * 2 FETCH (FLAGS (\Flagged))
S: * 4 FETCH (FLAGS (\Flagged))
S: c8 OK Store completed.
E: FlagsSet user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Work;UIDVALIDITY=9 mailboxID=imap://alice@mail.example.net/Work;UIDVALIDITY=9 uidset=22,24 flagNames=\Flagged
C: c9 STORE 3 -FLAGS.SILENT (\Flagged)
S: c9 OK Store completed.
E: -
# .SILENT returns no flags: a FETCH with FLAGS during it is another
# session's change told now, merged with this one's (RFC 7162 3.2)
C: d1 STORE 2,4 -FLAGS.SILENT (\Flagged)
S: * 4 FETCH (FLAGS (\Deleted))
S: d1 OK Store completed.
E: FlagsClear user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Work;UIDVALIDITY=9 mailboxID=imap://alice@mail.example.net/Work;UIDVALIDITY=9 uidset=22 flagNames=\Flagged (truncated)
# A FLAGS replace reports the same whatever the flags were before: when
# its reply also brings other sessions' news (here a new message), its
# messages may have been changed unseen as well, and what it did is
# unknown.  Without news, it is known.
C: d2 STORE 2 FLAGS (\Answered)
S: * 2 FETCH (FLAGS (\Answered))
S: * 5 EXISTS
S: d2 OK Store completed.
E: -
C: d3 STORE 2 FLAGS (\Draft)
S: * 2 FETCH (FLAGS (\Draft))
S: d3 OK Store completed.
E: FlagsSet user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Work;UIDVALIDITY=9/;UID=22 mailboxID=imap://alice@mail.example.net/Work;UIDVALIDITY=9 uidset=22 flagNames=\Draft
E: FlagsClear user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Work;UIDVALIDITY=9/;UID=22 mailboxID=imap://alice@mail.example.net/Work;UIDVALIDITY=9 uidset=22 flagNames=\Answered
C: z LOGOUT
S: * BYE Logging out
S: z OK Logout completed.
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/ vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
