# CLOSE expunges the messages with \Deleted and says nothing (RFC 9051
# 6.4.1): MessageExpunge for those the session knew to carry \Deleted.
# When some messages' flags (or UIDs) are unknown, the event holds the
# known ones and says truncated; when none is known to, there is none.
C: a1 LOGIN alice secret
S: a1 OK Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 SELECT INBOX
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.
S: * 4 EXISTS
S: * OK [UIDVALIDITY 2] UIDs valid
S: b1 OK [READ-WRITE] Select completed.
C: b2 UID FETCH 1:* (FLAGS)
S: * 1 FETCH (UID 1 FLAGS (\Seen))
S: * 2 FETCH (UID 2 FLAGS ())
S: * 3 FETCH (UID 3 FLAGS (\Deleted))
S: * 4 FETCH (UID 4 FLAGS ())
S: b2 OK Fetch completed.
C: b3 STORE 2,4 +FLAGS.SILENT (\Deleted)
S: b3 OK Store completed.
E: MessageTrash user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=2 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=2 uidset=2,4
C: b4 CLOSE
S: b4 OK Close completed.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=2 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=2 uidset=2:4 messages=1
# Without \Deleted messages: no event
C: c1 SELECT INBOX
S: * 1 EXISTS
S: * OK [UIDVALIDITY 2] UIDs valid
S: c1 OK [READ-WRITE] Select completed.
C: c2 FETCH 1 (UID FLAGS)
S: * 1 FETCH (UID 1 FLAGS (\Seen))
S: c2 OK Fetch completed.
C: c3 CLOSE
S: c3 OK Close completed.
E: -
# Partly known: message 3's flags are unknown, message 4's UID too
C: d1 SELECT Trash
S: * 4 EXISTS
S: * OK [UIDVALIDITY 8] UIDs valid
S: d1 OK [READ-WRITE] Select completed.
C: d2 FETCH 1:3 (UID)
S: * 1 FETCH (UID 5)
S: * 2 FETCH (UID 6)
S: * 3 FETCH (UID 7)
S: d2 OK Fetch completed.
C: d3 FETCH 1:2 (FLAGS)
S: * 1 FETCH (FLAGS (\Deleted \Seen))
S: * 2 FETCH (FLAGS (\Seen))
S: d3 OK Fetch completed.
C: d4 CLOSE
S: d4 OK Close completed.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Trash;UIDVALIDITY=8 mailboxID=imap://alice@mail.example.net/Trash;UIDVALIDITY=8 uidset=5 (truncated)
# A \Deleted set by another session and told in a NOOP counts as well
C: e1 SELECT Trash
S: * 2 EXISTS
S: * OK [UIDVALIDITY 8] UIDs valid
S: e1 OK [READ-WRITE] Select completed.
C: e2 FETCH 1:2 (UID FLAGS)
S: * 1 FETCH (UID 6 FLAGS ())
S: * 2 FETCH (UID 7 FLAGS ())
S: e2 OK Fetch completed.
C: e3 NOOP
S: * 2 FETCH (FLAGS (\Deleted))
S: e3 OK NOOP completed.
C: e4 CLOSE
S: e4 OK Close completed.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Trash;UIDVALIDITY=8/;UID=7 mailboxID=imap://alice@mail.example.net/Trash;UIDVALIDITY=8 uidset=7 messages=1
# read-only: CLOSE expunges nothing
C: f1 EXAMINE Trash
S: * 1 EXISTS
S: * OK [UIDVALIDITY 8] UIDs valid
S: f1 OK [READ-ONLY] Examine completed.
C: f2 FETCH 1 (UID FLAGS)
S: * 1 FETCH (UID 6 FLAGS (\Deleted))
S: f2 OK Fetch completed.
C: f3 CLOSE
S: f3 OK Close completed.
E: -
C: z LOGOUT
S: * BYE Logging out
S: z OK Logout completed.
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/ vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
