# What is selected: a failed SELECT leaves nothing selected (RFC 9051
# 6.3.1), EXAMINE is read-only, CLOSE and UNSELECT deselect; a SELECT
# the proxy could not track leaves it following no mailbox.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
# modified UTF-7 name (RFC 3501 5.1.3), as UTF-8 in the URL
C: b1 SELECT "Caf&AOk-"
S: * 2 EXISTS
S: * OK [UIDVALIDITY 8] Ok
S: b1 OK [READ-WRITE] Ok
C: b2 FETCH 1:2 (UID)
S: * 1 FETCH (UID 1)
S: * 2 FETCH (UID 2)
S: b2 OK Done
C: b3 EXPUNGE
S: * 1 EXPUNGE
S: b3 OK Done
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Caf%C3%A9;UIDVALIDITY=8/;UID=1 mailboxID=imap://alice@mail.example.net/Caf%C3%A9;UIDVALIDITY=8 uidset=1 messages=1
# A failed SELECT: the previous mailbox is no longer selected either.
# (This server then wrongly announces an expunge: no event.)
C: b4 SELECT Nope
S: b4 NO [NONEXISTENT] Mailbox doesn't exist: Nope
C: b5 EXPUNGE
S: * 1 EXPUNGE
S: b5 OK Done
E: -
# EXAMINE: read-only; its CLOSE expunges nothing
C: c1 EXAMINE INBOX
S: * 3 EXISTS
S: * OK [UIDVALIDITY 1] Ok
S: c1 OK [READ-ONLY] Ok
C: c2 EXPUNGE
S: c2 NO [READ-ONLY] Mailbox is read-only
C: c3 CLOSE
S: c3 OK Close completed.
E: -
# CLOSE expunges the \Deleted messages silently (RFC 9051 6.4.1); not
# reported while the proxy does not know which carried \Deleted.
C: d1 SELECT INBOX
S: * 3 EXISTS
S: * OK [UIDVALIDITY 1] Ok
S: d1 OK [READ-WRITE] Ok
C: d2 STORE 1 +FLAGS.SILENT (\Deleted)
S: d2 OK Store completed.
C: d3 CLOSE
S: d3 OK Close completed.
E: -
C: d4 EXPUNGE
S: d4 BAD No mailbox selected.
E: -
# An EXPUNGE and a SELECT pipelined: the EXPUNGE runs in the old mailbox
C: e1 SELECT INBOX
S: * 2 EXISTS
S: * OK [UIDVALIDITY 1] Ok
S: e1 OK [READ-WRITE] Ok
C: e2 UID FETCH 1:* (UID)
S: * 1 FETCH (UID 4)
S: * 2 FETCH (UID 5)
S: e2 OK Done
C: e3 EXPUNGE
C: e4 SELECT Archive
C: e5 EXPUNGE
S: * 2 EXPUNGE
S: e3 OK Done
S: * 7 EXISTS
S: * OK [UIDVALIDITY 2] Ok
S: e4 OK [READ-WRITE] Ok
S: * 7 EXPUNGE
S: e5 OK Done
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1/;UID=5 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1 uidset=5 messages=1
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive;UIDVALIDITY=2 mailboxID=imap://alice@mail.example.net/Archive;UIDVALIDITY=2 messages=6 (truncated)
# A SELECT with a tag too long to track (over 32 bytes): the proxy no
# longer knows the mailbox, and reports no expunge in it rather than
# one under the wrong name.
C: ffffffffffffffffffffffffffffffffffff SELECT Other
S: * 1 EXISTS
S: * OK [UIDVALIDITY 3] Ok
S: ffffffffffffffffffffffffffffffffffff OK [READ-WRITE] Ok
C: f2 EXPUNGE
S: * 1 EXPUNGE
S: f2 OK Done
E: -
