# LOGIN refused: LoginFailure with the response code, no Login, no Logout.
S: * OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN] Dovecot ready.
C: a1 LOGIN alice wrong
S: a1 NO [AUTHENTICATIONFAILED] Authentication failed.
E: vnd.msgeventd.LoginFailure user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/ vnd.msgeventd.responseCode=AUTHENTICATIONFAILED
# Without a response code: the status word.
C: a2 LOGIN "alice" "wrong"
S: a2 BAD Error in IMAP command LOGIN
E: vnd.msgeventd.LoginFailure user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/ vnd.msgeventd.responseCode=BAD
C: a3 LOGIN carol wrong
S: a3 NO Login failed
E: vnd.msgeventd.LoginFailure user=carol clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://carol@mail.example.net/ vnd.msgeventd.responseCode=NO
# A status word without text (resp-text is optional in practice), any case.
C: a5 LOGIN dave wrong
S: a5 no
E: vnd.msgeventd.LoginFailure user=dave clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://dave@mail.example.net/ vnd.msgeventd.responseCode=NO
C: a6 LOGIN erin wrong
S: a6 BAD
E: vnd.msgeventd.LoginFailure user=erin clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://erin@mail.example.net/ vnd.msgeventd.responseCode=BAD
C: a4 LOGOUT
S: * BYE Logging out
S: a4 OK Logout completed.
E: -
END: graceful
