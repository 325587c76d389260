# A whole session as Dovecot 2.3 answers it: USER/PASS, CAPA, listings,
# a dot-stuffed message, TOP, QUIT without DELE: Login and Logout only.
S: +OK Dovecot (Debian) ready.
C: CAPA
S: +OK
S: CAPA
S: TOP
S: UIDL
S: RESP-CODES
S: PIPELINING
S: AUTH-RESP-CODE
S: USER
S: SASL PLAIN LOGIN
S: .
C: USER alice
S: +OK
C: PASS secret
E: -
S: +OK Logged in.
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net
C: STAT
S: +OK 3 774
C: LIST
S: +OK 3 messages:
S: 1 258
S: 2 258
S: 3 258
S: .
C: UIDL
S: +OK
S: 1 000000016b0d69cc
S: 2 000000026b0d69cc
S: 3 000000036b0d69cc
S: .
# A body whose lines look like responses and dot lines.
C: RETR 2
S: +OK 60 octets
S: Subject: m1
S:
S: ..dotline
S: +OK not a response
S: ...two
S: ..
S: .
C: TOP 3 0
S: +OK
S: Subject: m2
S:
S: .
C: NOOP
S: +OK
E: -
C: QUIT
S: +OK Logging out.
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
END: graceful
E: -
