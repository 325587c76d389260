# own-commands: off
# Without own commands, a message whose UIDL the client never asked is
# expunged without it: the event is marked truncated.
S: +OK Dovecot ready.
C: USER alice
C: PASS secret
S: +OK
S: +OK Logged in.
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net
C: UIDL 1
S: +OK 1 u1
C: DELE 1
C: DELE 2
S: +OK Marked to be deleted.
S: +OK Marked to be deleted.
C: QUIT
S: +OK Logging out, messages deleted.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX mailboxID=imap://alice@mail.example.net/INBOX vnd.msgeventd.uidl=u1 (truncated)
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
