# DELE then RSET then QUIT: no MessageExpunge.
S: +OK Dovecot ready.
C: USER alice
C: PASS secret
S: +OK
S: +OK Logged in.
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net
C: UIDL 1
S: +OK 1 u1
C: DELE 1
S: +OK Marked to be deleted.
C: RSET
S: +OK
C: QUIT
S: +OK Logging out.
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
