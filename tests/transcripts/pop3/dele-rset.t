# DELE, RSET, QUIT: RSET unmarks everything, nothing is expunged.  Then
# a DELE after the RSET is.
S: +OK Dovecot ready.
C: USER alice
C: PASS secret
S: +OK
S: +OK Logged in.
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net
C: UIDL
S: +OK
S: 1 u1
S: 2 u2
S: .
C: DELE 1
S: +OK Marked to be deleted.
C: DELE 2
S: +OK Marked to be deleted.
C: RSET
S: +OK
C: DELE 2
S: +OK Marked to be deleted.
C: QUIT
S: +OK Logging out, messages deleted.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX mailboxID=imap://alice@mail.example.net/INBOX vnd.msgeventd.uidl=u2
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
