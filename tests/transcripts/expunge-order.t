# Expunges in any order (servers may go downwards): the UIDs are merged
# into one canonical set.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 SELECT INBOX
S: * 8 EXISTS
S: * OK [UIDVALIDITY 1] Ok
S: * OK [UIDNEXT 9] Ok
S: b1 OK [READ-WRITE] Ok
C: b2 FETCH 1:* (UID)
S: * 1 FETCH (UID 1)
S: * 2 FETCH (UID 2)
S: * 3 FETCH (UID 3)
S: * 4 FETCH (UID 4)
S: * 5 FETCH (UID 5)
S: * 6 FETCH (UID 6)
S: * 7 FETCH (UID 7)
S: * 8 FETCH (UID 8)
S: b2 OK Done
E: -
# UIDs 8, 6, 7, 2, 1, 3
C: b3 EXPUNGE
S: * 8 EXPUNGE
S: * 6 EXPUNGE
S: * 6 EXPUNGE
S: * 2 EXPUNGE
S: * 1 EXPUNGE
S: * 1 EXPUNGE
S: b3 OK Done
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1 uidset=1:3,6:8 uidnext=9 messages=2
# Left: 4, 5.  A UIDVALIDITY change voids every UID known (RFC 9051
# 2.3.1.1): the expunged message's UID is then unknown.
C: b4 NOOP
S: * OK [UIDVALIDITY 2] UIDs changed
S: b4 OK Done
C: b5 EXPUNGE
S: * 1 EXPUNGE
S: b5 OK Done
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=2 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=2 uidnext=9 messages=1 (truncated)
