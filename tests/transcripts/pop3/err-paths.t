# -ERR everywhere: no body after -ERR to RETR, LIST or UIDL without
# argument; unknown commands and an empty line answered -ERR keep the
# pairing; -ERR to QUIT expunges nothing (RFC 1939 6: some deleted
# messages may not have been removed) but ends the session.
S: +OK Dovecot ready.
C: RETR 1
S: -ERR Unknown command.
C: LIST
S: -ERR Unknown command.
C: DELE 1
S: -ERR Unknown command.
C: USER alice
C: PASS secret
S: +OK
S: +OK Logged in.
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net
C: RETR 9
S: -ERR There's no message 9.
C: TOP 9 1
S: -ERR There's no message 9.
C: XYZZY
S: -ERR Unknown command: XYZZY
C:
S: -ERR Unknown command: 
C: UIDL 1
S: +OK 1 u1
C: DELE 1
S: +OK Marked to be deleted.
C: QUIT
S: -ERR Some deleted messages were not removed
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
