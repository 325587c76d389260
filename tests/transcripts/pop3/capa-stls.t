# stls-own: on
# STLS is msgeventd's (it answers the client's STLS itself): the
# server's STLS line leaves every CAPA listing, in any case;
# lines that only look like it stay (a longer one, a dot-stuffed one).
# Without an offer, nothing goes in.
S: +OK Dovecot ready.
C: CAPA
S: +OK Capability list follows
S: TOP
S: STLS
S: UIDL
S: .
E: -
C: CAPA
C: NOOP
S: +OK
S: stls
S: STLSX
S: ..STLS
S: .STLS
S: STLS 
S: .
S: +OK
E: -
C: QUIT
S: +OK Bye
#DOWN: +OK Dovecot ready.
#DOWN: +OK Capability list follows
#DOWN: TOP
#DOWN: UIDL
#DOWN: .
#DOWN: +OK
#DOWN: STLSX
#DOWN: ..STLS
#DOWN: .STLS
#DOWN: STLS 
#DOWN: .
#DOWN: +OK
#DOWN: +OK Bye
