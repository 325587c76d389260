# RFC 2449 PIPELINING: the whole session in two reads each way.
S: +OK ready.
C: USER alice
C: PASS secret
C: STAT
C: UIDL
C: DELE 1
C: RETR 2
C: LIST 2
C: QUIT
S: +OK
S: +OK Logged in.
S: +OK 2 20
S: +OK
S: 1 uid-one
S: 2 uid.two
S: .
S: +OK Marked to be deleted.
S: +OK 10 octets
S: ....
S: -ERR x
S: .
S: +OK 2 10
S: +OK Logging out, messages deleted.
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX mailboxID=imap://alice@mail.example.net/INBOX vnd.msgeventd.uidl=uid-one
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
