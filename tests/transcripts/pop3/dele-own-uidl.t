# uidl-map: dovecot
# DELE of a message whose UIDL the client never asked: msgeventd's own
# "UIDL 2" goes to the server right before the DELE, its answer is kept
# from the client, and QUIT reports the unique-id and the UID.
S: +OK Dovecot ready.
C: USER alice
C: PASS secret
S: +OK
S: +OK Logged in.
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net
C: RETR 2
S: +OK 9 octets
S: ..x
S: y
S: .
C: DELE 2
S: +OK 2 000000026b0d69cc
S: +OK Marked to be deleted.
E: -
C: QUIT
S: +OK Logging out, messages deleted.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1796041164/;UID=2 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1796041164 uidset=2 vnd.msgeventd.uidl=000000026b0d69cc
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
#UP: USER alice
#UP: PASS secret
#UP: RETR 2
#UP: UIDL 2
#UP: DELE 2
#UP: QUIT
#DOWN: +OK Dovecot ready.
#DOWN: +OK
#DOWN: +OK Logged in.
#DOWN: +OK 9 octets
#DOWN: ..x
#DOWN: y
#DOWN: .
#DOWN: +OK Marked to be deleted.
#DOWN: +OK Logging out, messages deleted.
