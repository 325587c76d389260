# AUTHENTICATE LOGIN with an empty user: the password line is never taken for it.
C: a1 AUTHENTICATE LOGIN
S: + VXNlcm5hbWU6
C: 
S: + UGFzc3dvcmQ6
C: c2VjcmV0
S: a1 NO [AUTHENTICATIONFAILED] Authentication failed.
E: vnd.msgeventd.LoginFailure clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://mail.example.net/ vnd.msgeventd.mechanism=LOGIN vnd.msgeventd.responseCode=AUTHENTICATIONFAILED
