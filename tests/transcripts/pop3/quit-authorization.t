# relay: off
# QUIT before any login: no event at all (and no relay callbacks: the
# proxy relays itself).
S: +OK Dovecot ready.
C: USER alice
S: +OK
C: QUIT
S: +OK Logging out
E: -
END: graceful
E: -
