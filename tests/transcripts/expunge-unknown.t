# EXPUNGE of messages whose UIDs the client never fetched.  No UID is
# ever guessed: the event carries the UIDs that are known and is marked
# truncated (the set is incomplete); with none known, it has no uidset.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 SELECT Archive
S: * 10 EXISTS
S: * OK [UIDVALIDITY 3] Ok
S: * OK [UIDNEXT 101] Ok
S: b1 OK [READ-WRITE] Ok
E: -
# UIDs of messages 1 to 3 only
C: b2 FETCH 1:3 (UID)
S: * 1 FETCH (UID 10)
S: * 2 FETCH (UID 20)
S: * 3 FETCH (UID 30)
S: b2 OK Fetch completed.
E: -
C: b3 EXPUNGE
S: * 2 EXPUNGE
S: * 4 EXPUNGE
S: * 4 EXPUNGE
S: b3 OK Expunge completed.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive;UIDVALIDITY=3 mailboxID=imap://alice@mail.example.net/Archive;UIDVALIDITY=3 uidset=20 uidnext=101 messages=7 (truncated)
# none known
C: b4 EXPUNGE
S: * 7 EXPUNGE
S: b4 OK Expunge completed.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive;UIDVALIDITY=3 mailboxID=imap://alice@mail.example.net/Archive;UIDVALIDITY=3 uidnext=101 messages=6 (truncated)
# the renumbering kept the known ones right: 1 is UID 10, 2 is UID 30
C: b5 EXPUNGE
S: * 2 EXPUNGE
S: * 1 EXPUNGE
S: b5 OK Expunge completed.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive;UIDVALIDITY=3 mailboxID=imap://alice@mail.example.net/Archive;UIDVALIDITY=3 uidset=10,30 uidnext=101 messages=4
# An EXPUNGE for a message the mailbox does not have: the count is in
# doubt (no messages=) until the next EXISTS says it again.
C: b6 EXPUNGE
S: * 9 EXPUNGE
S: b6 OK Expunge completed.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive;UIDVALIDITY=3 mailboxID=imap://alice@mail.example.net/Archive;UIDVALIDITY=3 uidnext=101 (truncated)
C: b7 NOOP
S: * 3 EXISTS
S: b7 OK NOOP completed.
E: -
C: b8 FETCH 1:* (UID)
S: * 1 FETCH (UID 40)
S: * 2 FETCH (UID 50)
S: * 3 FETCH (UID 60)
S: b8 OK Fetch completed.
E: -
C: b9 EXPUNGE
S: * 3 EXPUNGE
S: b9 OK Expunge completed.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive;UIDVALIDITY=3/;UID=60 mailboxID=imap://alice@mail.example.net/Archive;UIDVALIDITY=3 uidset=60 messages=2
