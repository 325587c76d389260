# A client that pipelines its login, DELEs and QUIT in one read: own
# UIDLs go in between, their answers come out of the middle of the
# server's read, and the expunge names both messages.
S: +OK Dovecot ready.
C: USER alice
C: PASS secret
C: DELE 1
C: DELE 2
C: QUIT
S: +OK
S: +OK Logged in.
S: +OK 1 000000016b0d69cc
S: +OK Marked to be deleted.
S: +OK 2 000000026b0d69cc
S: +OK Marked to be deleted.
S: +OK Logging out, messages deleted.
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX mailboxID=imap://alice@mail.example.net/INBOX vnd.msgeventd.uidl=000000016b0d69cc 000000026b0d69cc
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
#UP: USER alice
#UP: PASS secret
#UP: UIDL 1
#UP: DELE 1
#UP: UIDL 2
#UP: DELE 2
#UP: QUIT
#DOWN: +OK Dovecot ready.
#DOWN: +OK
#DOWN: +OK Logged in.
#DOWN: +OK Marked to be deleted.
#DOWN: +OK Marked to be deleted.
#DOWN: +OK Logging out, messages deleted.
