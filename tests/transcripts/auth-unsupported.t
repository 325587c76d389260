# The server refuses the mechanism at once: LoginFailure, parser back to commands.
C: a1 AUTHENTICATE GSSAPI
S: a1 NO [CANNOT] Unsupported authentication mechanism.
E: vnd.msgeventd.LoginFailure clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://mail.example.net/ vnd.msgeventd.mechanism=GSSAPI vnd.msgeventd.responseCode=CANNOT
C: a2 LOGIN alice secret
S: a2 OK Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
