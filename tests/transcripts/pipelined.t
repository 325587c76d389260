# Several commands outstanding, answered out of order, over more than the inline slots.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS MULTIAPPEND] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: p1 CREATE A
C: p2 CREATE B
C: p3 NOOP
C: p4 RENAME A C
C: p5 DELETE B
C: p6 SUBSCRIBE C
C: p7 UID STORE 1 +FLAGS (\Seen)
E: -
S: p3 OK NOOP completed.
S: p2 OK Create completed.
E: MailboxCreate user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/B mailboxID=imap://alice@mail.example.net/B
S: p1 OK Create completed.
S: p5 OK Delete completed.
E: MailboxCreate user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/A mailboxID=imap://alice@mail.example.net/A
E: MailboxDelete user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/B mailboxID=imap://alice@mail.example.net/B
S: p7 OK Store completed.
S: p6 NO [NONEXISTENT] no C yet
S: p4 OK Rename completed.
E: MailboxRename user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/C mailboxID=imap://alice@mail.example.net/C oldMailboxID=imap://alice@mail.example.net/A
# a duplicated tag: completions go to the oldest first
C: d CREATE X
C: d CREATE Y
S: d OK first
E: MailboxCreate user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/X mailboxID=imap://alice@mail.example.net/X
S: d NO second
E: -
# an unknown tag changes nothing
S: zz OK what?
E: -
