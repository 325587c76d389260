# authzid equal to authcid: no admin.
C: a1 AUTHENTICATE PLAIN
S: +
C: YWxpY2UAYWxpY2UAc2VjcmV0
S: a1 OK Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/ vnd.msgeventd.mechanism=PLAIN
# a failed PLAIN names the attempted user
C: a2 AUTHENTICATE PLAIN AGNhcm9sAHdyb25n
S: a2 NO [AUTHENTICATIONFAILED] Authentication failed.
E: vnd.msgeventd.LoginFailure user=carol clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://carol@mail.example.net/ vnd.msgeventd.mechanism=PLAIN vnd.msgeventd.responseCode=AUTHENTICATIONFAILED
