# AUTHENTICATE cancelled by "*" (RFC 9051 6.2.2): no event at all.
S: * OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN] Dovecot ready.
C: a1 AUTHENTICATE PLAIN
S: + 
C: *
S: a1 BAD Authentication aborted by client.
E: -
# then the client parser reads commands again
C: a2 LOGIN alice secret
S: a2 OK Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
END: abort
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/ vnd.msgeventd.reason=abort vnd.msgeventd.duration=*
