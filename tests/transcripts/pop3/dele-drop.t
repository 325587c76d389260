# DELE then the connection drops: POP3 commits nothing without QUIT
# (RFC 1939 6), so no MessageExpunge, only the Logout.
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
E: -
END: abort
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net vnd.msgeventd.reason=abort vnd.msgeventd.duration=*
