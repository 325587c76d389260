# A FETCH literal whose body holds lines that look like completions.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS MULTIAPPEND] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: f1 CREATE Box
C: f2 FETCH 1 BODY[]
C: f3 DELETE Box
S: * 1 FETCH (BODY[] {60}
S: f1 OK [APPENDUID 1 2] fake
S: f3 OK fake
S: * BYE idle timeout
S- )
S: 
E: -
S: f2 OK Fetch completed.
S: f1 OK Create completed.
E: MailboxCreate user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Box mailboxID=imap://alice@mail.example.net/Box
# and in a client literal
C: f4 APPEND INBOX {18+}
C: f3 OK fake
C: f5 x
C: 
S: f4 OK [APPENDUID 9 9] Append completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9/;UID=9 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 uidset=9 messageSize=18
S: f3 NO [NONEXISTENT] no
E: -
END: abort
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/ vnd.msgeventd.reason=abort vnd.msgeventd.duration=*
