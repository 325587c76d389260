# AUTHENTICATE PLAIN after a continuation; authzid bob != authcid admin.
S: * OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN] Dovecot ready.
C: a1 authenticate plain
S: + 
C: Ym9iAGFkbWluAHNlY3JldA==
E: -
S: a1 OK Logged in
E: Login user=bob admin=admin clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://bob@mail.example.net/ vnd.msgeventd.mechanism=PLAIN
# admin rides along on every event of the session
C: a2 DELETE Trash
S: a2 OK Delete completed.
E: MailboxDelete user=bob admin=admin clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://bob@mail.example.net/Trash mailboxID=imap://bob@mail.example.net/Trash
END: abort
E: Logout user=bob admin=admin clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://bob@mail.example.net/ vnd.msgeventd.reason=abort vnd.msgeventd.duration=*
