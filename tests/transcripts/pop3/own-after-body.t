# uidl-map: dovecot
# RETR, DELE and QUIT pipelined: the own UIDL waits behind the message,
# whose body holds lines that look like responses and dot lines; what
# the client does not see starts right after the body's "." line.
S: +OK Dovecot ready.
C: USER alice
C: PASS secret
S: +OK
S: +OK Logged in.
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net
C: RETR 1
C: DELE 1
C: QUIT
S: +OK 20 octets
S: +OK 1 000000096b0d69cc
S: ..
S: ...
S: .
S: +OK 1 000000016b0d69cc
S: +OK Marked to be deleted.
S: +OK Logging out, messages deleted.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1796041164/;UID=1 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1796041164 uidset=1 vnd.msgeventd.uidl=000000016b0d69cc
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
#UP: USER alice
#UP: PASS secret
#UP: RETR 1
#UP: UIDL 1
#UP: DELE 1
#UP: QUIT
#DOWN: +OK Dovecot ready.
#DOWN: +OK
#DOWN: +OK Logged in.
#DOWN: +OK 20 octets
#DOWN: +OK 1 000000096b0d69cc
#DOWN: ..
#DOWN: ...
#DOWN: .
#DOWN: +OK Marked to be deleted.
#DOWN: +OK Logging out, messages deleted.
