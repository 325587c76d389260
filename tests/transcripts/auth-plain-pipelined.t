# PLAIN with an initial response, the next command in the same read:
# the client has nothing more to send for PLAIN, so its lines stay commands.
C: a1 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==
C: a2 CREATE Pipelined
E: -
S: a1 OK Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/ vnd.msgeventd.mechanism=PLAIN
S: a2 OK Create completed.
E: MailboxCreate user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Pipelined mailboxID=imap://alice@mail.example.net/Pipelined
# PLAIN with an empty initial response ("=", RFC 4959): credentials follow a "+"
C: a3 AUTHENTICATE PLAIN =
S: + 
C: AGNhcm9sAHdyb25n
S: a3 NO [AUTHENTICATIONFAILED] Authentication failed.
E: vnd.msgeventd.LoginFailure user=carol clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://carol@mail.example.net/ vnd.msgeventd.mechanism=PLAIN vnd.msgeventd.responseCode=AUTHENTICATIONFAILED
C: a4 DELETE Pipelined
S: a4 OK Delete completed.
E: MailboxDelete user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Pipelined mailboxID=imap://alice@mail.example.net/Pipelined
