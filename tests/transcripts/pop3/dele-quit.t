# uidl-map: dovecot
# DELE then QUIT: MessageExpunge at the +OK to QUIT, with the unique-ids
# the client's UIDL listing told, and (with the pattern) UIDs.
S: +OK Dovecot ready.
C: USER alice
S: +OK
C: PASS secret
S: +OK Logged in.
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net
C: UIDL
S: +OK
S: 1 000000016b0d69cc
S: 2 000000026b0d69cc
S: 3 000000036b0d69cc
S: 4 000000046b0d69cc
S: .
C: RETR 1
S: +OK 3 octets
S: a
S: .
C: DELE 1
S: +OK Marked to be deleted.
C: DELE 3
S: +OK Marked to be deleted.
C: DELE 4
S: +OK Marked to be deleted.
# Deleted twice: refused, nothing changes.
C: DELE 3
S: -ERR Message is deleted.
E: -
C: QUIT
S: +OK Logging out, messages deleted.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1796041164 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1796041164 uidset=1,3:4 vnd.msgeventd.uidl=000000016b0d69cc 000000036b0d69cc 000000046b0d69cc
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
