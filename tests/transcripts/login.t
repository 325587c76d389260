# LOGIN with atoms, then LOGOUT: Login at the OK, Logout graceful.
S: * OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN] Dovecot ready.
C: a1 CAPABILITY
S: * CAPABILITY IMAP4rev1 AUTH=PLAIN
S: a1 OK done
E: -
C: a2 LOGIN alice secret
E: -
S: a2 OK [CAPABILITY IMAP4rev1 UIDPLUS] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: a3 NOOP
S: a3 OK NOOP completed.
E: -
C: a4 LOGOUT
S: * BYE Logging out
E: -
S: a4 OK Logout completed.
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/ vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
# the connection closes: no second Logout
END: graceful
