# AUTH LOGIN: cancelled with "*" (no event), with the user as initial
# response (refused), and in two steps.
S: +OK Dovecot ready.
C: AUTH LOGIN
S: + VXNlcm5hbWU6
C: *
S: -ERR Authentication aborted by client.
E: -
C: AUTH LOGIN YWxpY2U=
S: + UGFzc3dvcmQ6
C: d3Jvbmc=
S: -ERR [AUTH] Authentication failed.
E: vnd.msgeventd.LoginFailure user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net uri=pop://alice@mail.example.net vnd.msgeventd.mechanism=LOGIN vnd.msgeventd.responseCode=AUTH
C: AUTH LOGIN
S: + VXNlcm5hbWU6
C: YWxpY2U=
S: + UGFzc3dvcmQ6
C: c2VjcmV0
E: -
S: +OK Logged in.
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net vnd.msgeventd.mechanism=LOGIN
END: abort
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=pop serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=110 uri=pop://alice@mail.example.net vnd.msgeventd.reason=abort vnd.msgeventd.duration=*
