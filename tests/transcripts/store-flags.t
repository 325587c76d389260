# STORE (RFC 9051 6.4.6) on messages whose flags the session learned:
# each change is an event at the OK (RFC 5423 4.2), one per distinct
# change, for all the messages that had it.  \Seen set is MessageRead,
# \Deleted set MessageTrash, other flags FlagsSet, cleared flags
# FlagsClear (flagNames only with these two, RFC 5423 5; never \Recent).
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 SELECT INBOX
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work \*)] Flags permitted.
S: * 4 EXISTS
S: * 1 RECENT
S: * OK [UIDVALIDITY 5] UIDs valid
S: * OK [UIDNEXT 20] Predicted next UID
S: b1 OK [READ-WRITE] Select completed.
C: b2 FETCH 1:4 (UID FLAGS)
S: * 1 FETCH (UID 10 FLAGS (\Seen))
S: * 2 FETCH (UID 11 FLAGS ())
S: * 3 FETCH (FLAGS (\Flagged) UID 12)
S: * 4 FETCH (UID 14 FLAGS (\Recent))
S: b2 OK Fetch completed.
E: -
# +FLAGS (\Seen) on three messages, one of which already had it: the
# other two were read.  What the server reports is the flags now.
C: b3 STORE 1:3 +FLAGS (\Seen)
S: * 1 FETCH (FLAGS (\Seen))
S: * 2 FETCH (FLAGS (\Seen))
S: * 3 FETCH (FLAGS (\Flagged \Seen))
S: b3 OK Store completed.
E: MessageRead user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 uidset=11:12
# -FLAGS: one message, so uri names it
C: b4 STORE 2 -FLAGS (\Seen)
S: * 2 FETCH (FLAGS ())
S: b4 OK Store completed.
E: FlagsClear user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5/;UID=11 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 uidset=11 flagNames=\Seen
# FLAGS replaces: it sets some and clears others (a keyword of the
# mailbox's FLAGS, in another case, is the same keyword)
C: b5 STORE 3 FLAGS (\Answered $work)
S: * 3 FETCH (FLAGS (\Answered $Work))
S: b5 OK Store completed.
E: FlagsSet user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5/;UID=12 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 uidset=12 flagNames=\Answered $Work
E: FlagsClear user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5/;UID=12 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 uidset=12 flagNames=\Flagged \Seen
# .SILENT: no FETCH responses; the operation applied to what is known.
# \Recent (message 4) is no flag of flagNames, nor of the cache.
C: b6 STORE 1:4 +FLAGS.SILENT (\Deleted)
S: b6 OK Store completed.
E: MessageTrash user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 uidset=10:12,14
# UID STORE (RFC 9051 6.4.9): UIDs; its FETCH responses carry the UID
C: b7 UID STORE 10,14 -FLAGS (\Deleted)
S: * 1 FETCH (UID 10 FLAGS (\Seen))
S: * 4 FETCH (FLAGS (\Recent) UID 14)
S: b7 OK Store completed.
E: FlagsClear user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 uidset=10,14 flagNames=\Deleted
# A FLAGS replace on a message with \Recent: \Recent is not cleared
C: b8 STORE 4 FLAGS (\Draft)
S: * 4 FETCH (FLAGS (\Recent \Draft))
S: b8 OK Store completed.
E: FlagsSet user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5/;UID=14 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 uidset=14 flagNames=\Draft
# Keywords, new ones too (PERMANENTFLAGS has \*); "Todo todo" is one
# keyword, spelt as first written; flags without parentheses.  Message
# 3 had $Work already: only Todo is new for it.
C: b9 STORE 2:3 +FLAGS.SILENT $Work Todo todo
S: b9 OK Store completed.
E: FlagsSet user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5/;UID=11 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 uidset=11 flagNames=$Work Todo
E: FlagsSet user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5/;UID=12 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 uidset=12 flagNames=Todo
# Nothing changed: no event
C: c1 STORE 2 +FLAGS (TODO)
S: * 2 FETCH (FLAGS ($Work Todo))
S: c1 OK Store completed.
E: -
# NO: no event, even for what the server reported changed before it
# failed; the reported flags are kept (message 1 has \Flagged now), the
# other messages' flags are forgotten (message 2 may have changed).
C: c2 STORE 1:2 +FLAGS (\Flagged)
S: * 1 FETCH (FLAGS (\Seen \Flagged))
S: c2 NO Partially failed.
E: -
C: c3 STORE 1:2 -FLAGS.SILENT (\Flagged)
S: c3 OK Store completed.
E: FlagsClear user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 uidset=10 flagNames=\Flagged (truncated)
# BAD: nothing ran, nothing is forgotten
C: c4 STORE 3 +FLAGS (\Recent)
S: c4 BAD Error in IMAP command STORE: Invalid flags
C: c5 STORE 3 -FLAGS.SILENT (Todo)
S: c5 OK Store completed.
E: FlagsClear user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5/;UID=12 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 uidset=12 flagNames=Todo
# A STORE of something else than flags (RFC 5257): no events
C: c6 STORE 3 ANNOTATION (/comment (value.priv "x"))
S: c6 OK Store completed.
E: -
C: z LOGOUT
S: * BYE Logging out
S: z OK Logout completed.
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/ vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
