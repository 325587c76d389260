# stls-own: on
# stls-offer: on
# uidl-map: dovecot
# After the login, a CAPA pipelined with a DELE whose unique-id is
# unknown: the listing loses the server's STLS (and gets none of
# msgeventd's: logged in), then msgeventd's own UIDL's answer is kept
# from the client, whatever the split.
S: +OK Dovecot ready.
C: USER alice
C: PASS secret
S: +OK
S: +OK Logged in.
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net
C: CAPA
C: DELE 1
S: +OK
S: STLS
S: TOP
S: .
S: +OK 1 000000016b0d69cc
S: +OK Marked to be deleted.
E: -
C: QUIT
S: +OK Logging out, messages deleted.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1796041164/;UID=1 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1796041164 uidset=1 vnd.msgeventd.uidl=000000016b0d69cc
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
#UP: USER alice
#UP: PASS secret
#UP: CAPA
#UP: UIDL 1
#UP: DELE 1
#UP: QUIT
#DOWN: +OK Dovecot ready.
#DOWN: +OK
#DOWN: +OK Logged in.
#DOWN: +OK
#DOWN: TOP
#DOWN: .
#DOWN: +OK Marked to be deleted.
#DOWN: +OK Logging out, messages deleted.
