# stls-own: on
# stls-offer: on
# STLS offered by msgeventd: its own STLS line goes in before the "."
# of every CAPA listing until a login succeeded, the server's is taken
# out; pipelined CAPAs each get one; after the login none.  Other
# listings (UIDL, LIST, AUTH) are not touched.
S: +OK Dovecot ready.
C: CAPA
S: +OK
S: TOP
S: STLS
S: USER
S: .
E: -
C: CAPA
C: AUTH
C: CAPA
S: +OK
S: .
S: +OK
S: PLAIN
S: STLS
S: .
S: +OK
S: SASL PLAIN
S: .
E: -
C: USER alice
C: PASS secret
S: +OK
S: +OK Logged in.
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net
C: CAPA
C: UIDL
S: +OK
S: TOP
S: STLS
S: .
S: +OK
S: 1 STLS
S: .
E: -
C: QUIT
S: +OK Bye
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
#DOWN: +OK Dovecot ready.
#DOWN: +OK
#DOWN: TOP
#DOWN: USER
#DOWN: STLS
#DOWN: .
#DOWN: +OK
#DOWN: STLS
#DOWN: .
#DOWN: +OK
#DOWN: PLAIN
#DOWN: STLS
#DOWN: .
#DOWN: +OK
#DOWN: SASL PLAIN
#DOWN: STLS
#DOWN: .
#DOWN: +OK
#DOWN: +OK Logged in.
#DOWN: +OK
#DOWN: TOP
#DOWN: .
#DOWN: +OK
#DOWN: 1 STLS
#DOWN: .
#DOWN: +OK Bye
