# IDLE/DONE in the middle of a session; DONE in the same read as IDLE.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS MULTIAPPEND] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: i1 SELECT INBOX
S: * 3 EXISTS
S: i1 OK [READ-WRITE] Select completed.
C: i2 IDLE
S: + idling
S: * 4 EXISTS
C: DONE
S: i2 OK Idle completed.
E: -
C: i3 CREATE Later
S: i3 OK Create completed.
E: MailboxCreate user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Later mailboxID=imap://alice@mail.example.net/Later
# IDLE and DONE and the next command in one read
C: i4 IDLE
C: DONE
C: i5 DELETE Later
S: + idling
S: i4 OK Idle completed.
S: i5 OK Delete completed.
E: MailboxDelete user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Later mailboxID=imap://alice@mail.example.net/Later
# IDLE refused: the client parser reads commands again
C: i6 IDLE
S: i6 BAD IDLE not now
C: i7 CREATE Again
S: i7 OK Create completed.
E: MailboxCreate user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Again mailboxID=imap://alice@mail.example.net/Again
