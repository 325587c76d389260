# LOGIN with a synchronizing literal user and a quoted password.
S: * OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN] Dovecot ready.
C: a1 LOGIN {5}
S: + Ready for literal data
C: alice "secret"
E: -
S: a1 OK Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
# A literal with an @ and a quoted password with escapes; user percent-encoded in the URL.
C: a2 LOGIN {15+}
C- bob@example.org "se\"cr\\et"
C: 
S: a2 OK Logged in
E: Login user=bob@example.org clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://bob%40example.org@mail.example.net/
