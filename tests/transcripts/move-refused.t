# A MOVE answered NO may still have removed messages.  Dovecot 2.3,
# moving messages within one mailbox and meeting one that another
# session expunged meanwhile, answers NO [EXPUNGEISSUED] after it has
# expunged the messages before it (announced with EXPUNGE) and copied
# none.  Those removals happened: MessageExpunge, as for EXPUNGE (the
# removals announced while it ran, for UID MOVE those of its UID set);
# no MessageAppend.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS MOVE] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 SELECT INBOX
S: * 10 EXISTS
S: * OK [UIDVALIDITY 42] Ok
S: * OK [UIDNEXT 11] Ok
S: b1 OK [READ-WRITE] Ok
C: b2 FETCH 1:10 (UID)
S: * 1 FETCH (UID 1)
S: * 2 FETCH (UID 2)
S: * 3 FETCH (UID 3)
S: * 4 FETCH (UID 4)
S: * 5 FETCH (UID 5)
S: * 6 FETCH (UID 6)
S: * 7 FETCH (UID 7)
S: * 8 FETCH (UID 8)
S: * 9 FETCH (UID 9)
S: * 10 FETCH (UID 10)
S: b2 OK Fetch completed.
E: -
# message 5 is gone already (another session; this one not told yet):
# its removal, announced now, cannot be told from the MOVE's own
C: b3 MOVE 2:8 INBOX
S: * 5 EXPUNGE
S: * 4 EXPUNGE
S: * 3 EXPUNGE
S: * 2 EXPUNGE
S: * 6 RECENT
S: b3 NO [EXPUNGEISSUED] Some of the requested messages no longer exist
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42 uidset=2:5 uidnext=11 messages=6
# left: UIDs 1, 6, 7, 8, 9, 10.  UID MOVE: only the removals of its set
# are its own; UID 9 is another session's (reported as such)
C: b4 UID MOVE 6:8 INBOX
S: * 5 EXPUNGE
S: * 3 EXPUNGE
S: * 2 EXPUNGE
S: b4 NO [EXPUNGEISSUED] Some of the requested messages no longer exist
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42 uidset=6:7 uidnext=11 messages=3
E: MessageExpunge user=alice serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42/;UID=9 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42 uidset=9 uidnext=11 messages=3 vnd.msgeventd.cause=external
# left: 1, 8, 10.  A NO that announced no removal: nothing
C: b5 MOVE 1:3 Archive
S: b5 NO [EXPUNGEISSUED] Some of the requested messages no longer exist
E: -
C: b6 MOVE 1 Nope
S: b6 NO [TRYCREATE] Mailbox doesn't exist: Nope
E: -
# refused for quota, with a removal announced: both
C: b7 UID MOVE 8 Archive
S: * 2 EXPUNGE
S: b7 NO [OVERQUOTA] Quota exceeded
E: QuotaExceed user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net mailboxID=imap://alice@mail.example.net/Archive
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42/;UID=8 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42 uidset=8 uidnext=11 messages=2
# BAD: the command was not run
C: b8 MOVE 1 Archive
S: b8 BAD Error in IMAP command
E: -
