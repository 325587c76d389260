# SELECT learns the mailbox (UIDVALIDITY, UIDNEXT, EXISTS), FETCH its
# UIDs (the UID item anywhere in the list); EXPUNGE (RFC 9051 6.4.3)
# reports the UIDs it removed, one event per command, at its OK.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS MOVE] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 SELECT INBOX
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.
S: * 5 EXISTS
S: * 0 RECENT
S: * OK [UIDVALIDITY 1700000000] UIDs valid
S: * OK [UIDNEXT 12] Predicted next UID
S: b1 OK [READ-WRITE] Select completed.
E: -
C: b2 FETCH 1:* (UID FLAGS)
S: * 1 FETCH (UID 3 FLAGS (\Seen))
S: * 2 FETCH (FLAGS (\Seen \Deleted) UID 4)
S: * 3 FETCH (RFC822.SIZE 310 BODY[HEADER.FIELDS (UID)] {5}
S: UID
S:  UID 7 FLAGS (\Deleted))
S: * 4 FETCH (UID 9 FLAGS ())
S: * 5 FETCH (INTERNALDATE "17-Jul-1996 02:44:25 -0700" UID 11 FLAGS (\Deleted))
S: b2 OK Fetch completed.
E: -
# Each EXPUNGE renumbers the rest (RFC 9051 7.5.1): the second "* 2" is
# the old third message, UID 7; "* 3" is then the old fifth, UID 11.
C: b3 EXPUNGE
S: * 2 EXPUNGE
S: * 2 EXPUNGE
S: * 3 EXPUNGE
S: b3 OK Expunge completed.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1700000000 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1700000000 uidset=4,7,11 uidnext=12 messages=2
# Left: 1 (UID 3), 2 (UID 9).  A new message arrives; UIDNEXT is then
# no longer known.
C: b4 NOOP
S: * 3 EXISTS
S: * 1 RECENT
S: b4 OK NOOP completed.
E: -
C: b5 FETCH 3 (FLAGS UID)
S: * 3 FETCH (FLAGS (\Recent) UID 12)
S: b5 OK Fetch completed.
E: MessageNew user=alice serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1700000000/;UID=12 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1700000000 uidset=12 messages=3
# UID EXPUNGE (RFC 4315 2.1), one message: uri names it
C: b6 UID EXPUNGE 12
S: * 3 EXPUNGE
S: b6 OK Expunge completed.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1700000000/;UID=12 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1700000000 uidset=12 messages=2
# An EXPUNGE that removes nothing: no event
C: b7 EXPUNGE
S: b7 OK Expunge completed.
E: -
# refused: the expunges it announced are facts, but no OK, no event
C: b8 EXPUNGE
S: * 1 EXPUNGE
S: b8 NO Partially failed.
E: -
# Left: 1 (UID 9).  UNSELECT (RFC 3691) closes without expunging.
C: b9 UNSELECT
S: b9 OK Unselect completed.
E: -
C: c1 EXPUNGE
S: c1 BAD No mailbox selected.
E: -
C: z LOGOUT
S: * BYE Logging out
S: z OK Logout completed.
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/ vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
