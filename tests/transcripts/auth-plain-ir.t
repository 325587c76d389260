# AUTHENTICATE PLAIN with the initial response on the command line (RFC 4959).
S: * OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN] Dovecot ready.
C: a1 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==
E: -
S: a1 OK [CAPABILITY IMAP4rev1] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/ vnd.msgeventd.mechanism=PLAIN
# back to normal command parsing
C: a2 CREATE Work
S: a2 OK Create completed.
E: MailboxCreate user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Work mailboxID=imap://alice@mail.example.net/Work
C: a3 LOGOUT
S: * BYE Logging out
S: a3 OK Logout completed.
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/ vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
