# A mechanism we cannot read: Login without user, with the mechanism.
C: a1 AUTHENTICATE SCRAM-SHA-256
S: + 
C: biwsbj1hbGljZSxyPXh5eg==
S: + cj14eXphYmMscz1zYWx0LGk9NDA5Ng==
C: Yz1iaXdzLHI9eHl6YWJjLHA9cHJvb2Y=
S: + dj1zaWduYXR1cmU=
C: 
S: a1 OK Logged in
E: Login clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://mail.example.net/ vnd.msgeventd.mechanism=SCRAM-SHA-256
# events without user go without "USER@" in URLs
C: a2 CREATE Notes
S: a2 OK done
E: MailboxCreate clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://mail.example.net/Notes mailboxID=imap://mail.example.net/Notes
END: abort
E: Logout clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://mail.example.net/ vnd.msgeventd.reason=abort vnd.msgeventd.duration=*
