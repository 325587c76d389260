# AUTH PLAIN with an initial response, refused, then accepted with a
# command pipelined behind it (RFC 4616 is one message: the line after
# it is a command again).
S: +OK Dovecot ready.
C: AUTH PLAIN AGFsaWNlAHdyb25n
S: -ERR [AUTH] Authentication failed.
E: vnd.msgeventd.LoginFailure user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net uri=pop://alice@mail.example.net vnd.msgeventd.mechanism=PLAIN vnd.msgeventd.responseCode=AUTH
C: AUTH PLAIN AGFsaWNlAHNlY3JldA==
C: STAT
S: +OK Logged in.
S: +OK 2 10
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net vnd.msgeventd.mechanism=PLAIN
# "=" is an empty initial response (RFC 5034 4): the server asks again.
C: AUTH PLAIN =
S: -ERR Already logged in.
E: -
C: QUIT
S: +OK Logging out.
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
