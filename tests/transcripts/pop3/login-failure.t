# Refused logins: LoginFailure with the RFC 2449 response code, else -ERR.
S: +OK Dovecot ready.
C: USER alice
S: +OK
C: PASS wrong
S: -ERR [AUTH] Authentication failed.
E: vnd.msgeventd.LoginFailure user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net uri=pop://alice@mail.example.net vnd.msgeventd.responseCode=AUTH
C: APOP alice c4c9334bac560ecc979e58001b3e22fb
S: -ERR APOP not enabled.
E: vnd.msgeventd.LoginFailure user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net uri=pop://alice@mail.example.net vnd.msgeventd.mechanism=APOP vnd.msgeventd.responseCode=-ERR
# PASS uses up its USER: a second PASS has no user.
C: PASS again
S: -ERR No username given.
E: vnd.msgeventd.LoginFailure clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net uri=pop://mail.example.net vnd.msgeventd.responseCode=-ERR
C: USER bob
S: +OK
C: PASS pw
S: -ERR [IN-USE] Mailbox locked
E: vnd.msgeventd.LoginFailure user=bob clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net uri=pop://bob@mail.example.net vnd.msgeventd.responseCode=IN-USE
# USER refused: the PASS after it is still an attempt as that user.
C: user carol
S: -err no such user
C: pass pw
S: -err [SYS/TEMP] try later
E: vnd.msgeventd.LoginFailure user=carol clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net uri=pop://carol@mail.example.net vnd.msgeventd.responseCode=SYS/TEMP
C: APOP alice c4c9334bac560ecc979e58001b3e22fb
S: +OK Logged in.
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net vnd.msgeventd.mechanism=APOP
END: abort
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net vnd.msgeventd.reason=abort vnd.msgeventd.duration=*
