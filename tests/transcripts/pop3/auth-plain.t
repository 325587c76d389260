# AUTH (RFC 5034): the mechanism list, PLAIN after a continuation with
# authzid bob != authcid admin, the user and admin on every event.
S: +OK Dovecot ready.
C: AUTH
S: +OK
S: PLAIN
S: LOGIN
S: .
E: -
C: AUTH PLAIN
S: + 
C: Ym9iAGFkbWluAHNlY3JldA==
E: -
S: +OK Logged in.
E: Login user=bob admin=admin clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://bob@mail.example.net vnd.msgeventd.mechanism=PLAIN
C: STAT
S: +OK 0 0
C: QUIT
S: +OK Logging out.
E: Logout user=bob admin=admin clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://bob@mail.example.net vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
