/*
 * test_loop.c - the event loop: fds, deletion during dispatch, timers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../../proxy/loop.h"

static void
stop_cb(struct loop *loop, void *arg)
{
	(void)arg;
	loop_stop(loop);
}

static void
make_pipe(int fds[2])
{
	assert_int_equal(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
}

static void
put_byte(int fd)
{
	assert_int_equal(write(fd, "x", 1), 1);
}

/* Records each call: which fd, with what. */
struct rec {
	int calls;
	int fd;
	unsigned events;
};

static void
rec_cb(struct loop *loop, int fd, unsigned events, void *arg)
{
	struct rec *r = arg;
	char c;

	(void)loop;
	r->calls++;
	r->fd = fd;
	r->events = events;
	if (events & LOOP_READ)
		(void)read(fd, &c, 1);
}

static void
test_fd_read(void **state)
{
	struct loop *loop = loop_new();
	struct rec r = { 0, -1, 0 };
	int p[2];

	(void)state;
	assert_non_null(loop);
	make_pipe(p);
	assert_int_equal(loop_add_fd(loop, p[0], LOOP_READ, rec_cb, &r), 0);
	put_byte(p[1]);
	assert_non_null(loop_timer_add(loop, 50, stop_cb, NULL));
	assert_int_equal(loop_run(loop), 0);
	/* one byte, one call: level-triggered but drained */
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.fd, p[0]);
	assert_int_equal(r.events, LOOP_READ);
	loop_del_fd(loop, p[0]);
	close(p[0]);
	close(p[1]);
	loop_free(&loop);
	assert_null(loop);
	loop_free(&loop);
}

static void
test_fd_write_and_mask(void **state)
{
	struct loop *loop = loop_new();
	struct rec r = { 0, -1, 0 };
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	/* watched with mask 0: nothing, then WRITE once asked */
	assert_int_equal(loop_add_fd(loop, sv[0], 0, rec_cb, &r), 0);
	assert_non_null(loop_timer_add(loop, 20, stop_cb, NULL));
	assert_int_equal(loop_run(loop), 0);
	assert_int_equal(r.calls, 0);
	assert_int_equal(loop_set_fd(loop, sv[0], LOOP_WRITE), 0);
	assert_non_null(loop_timer_add(loop, 0, stop_cb, NULL));
	assert_int_equal(loop_run(loop), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.events, LOOP_WRITE);
	/* readable and writable, watched for READ only: READ alone */
	put_byte(sv[1]);
	assert_int_equal(loop_set_fd(loop, sv[0], LOOP_READ), 0);
	assert_non_null(loop_timer_add(loop, 0, stop_cb, NULL));
	assert_int_equal(loop_run(loop), 0);
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.events, LOOP_READ);
	/* the peer goes away: READ with ERROR for a READ|WRITE watcher */
	assert_int_equal(loop_set_fd(loop, sv[0], LOOP_READ | LOOP_WRITE),
	    0);
	close(sv[1]);
	assert_non_null(loop_timer_add(loop, 0, stop_cb, NULL));
	assert_int_equal(loop_run(loop), 0);
	assert_int_equal(r.calls, 3);
	assert_true(r.events & LOOP_READ);
	assert_true(r.events & LOOP_WRITE);
	loop_del_fd(loop, sv[0]);
	close(sv[0]);
	loop_free(&loop);
}

/*
 * An fd at EOF/HUP with mask 0 must not wake the loop: CPU time over a
 * 100 ms run stays far below 100 ms (a spinning loop would use it all).
 */
static void
test_fd_hup_mask0_no_spin(void **state)
{
	struct loop *loop = loop_new();
	struct rec r = { 0, -1, 0 };
	struct timespec t0, t1;
	int64_t used_ns;
	int p[2];

	(void)state;
	make_pipe(p);
	close(p[1]);
	assert_int_equal(loop_add_fd(loop, p[0], LOOP_READ, rec_cb, &r), 0);
	assert_non_null(loop_timer_add(loop, 0, stop_cb, NULL));
	assert_int_equal(loop_run(loop), 0);
	assert_int_equal(r.calls, 1);
	assert_true(r.events & LOOP_ERROR);
	assert_true(r.events & LOOP_READ);
	assert_false(r.events & LOOP_WRITE);

	assert_int_equal(loop_set_fd(loop, p[0], 0), 0);
	assert_int_equal(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0), 0);
	assert_non_null(loop_timer_add(loop, 100, stop_cb, NULL));
	assert_int_equal(loop_run(loop), 0);
	assert_int_equal(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1), 0);
	assert_int_equal(r.calls, 1);
	used_ns = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 +
	    (t1.tv_nsec - t0.tv_nsec);
	assert_true(used_ns < 50 * 1000000);
	loop_del_fd(loop, p[0]);
	close(p[0]);
	loop_free(&loop);
}

/*
 * Two readable pipes; whichever callback runs first deletes the other
 * fd, or deletes it and watches the same fd number again as a new
 * object (dup2 over it, as a new accept() would), or sets its mask to
 * 0.  The other's pending event must not reach anyone in this
 * iteration.
 */
enum pair_mode {
	PAIR_DEL,
	PAIR_READD,
	PAIR_MASK0,
};

struct pair {
	int a[2], b[2];
	int first_calls, new_calls;
	int other;			/* fd the first callback acted on */
	enum pair_mode mode;
	bool iteration_over;		/* set by a timer after dispatch */
	int fresh[2];			/* the new object behind `other` */
};

static void
end_of_iteration_cb(struct loop *loop, void *arg)
{
	struct pair *pr = arg;

	(void)loop;
	pr->iteration_over = true;
}

static void
new_cb(struct loop *loop, int fd, unsigned events, void *arg)
{
	struct pair *pr = arg;
	char c;

	/* never with the stale event of the old object */
	assert_true(pr->iteration_over);
	assert_int_equal(fd, pr->other);
	assert_int_equal(events, LOOP_READ);
	assert_int_equal(read(fd, &c, 1), 1);
	pr->new_calls++;
	loop_stop(loop);
}

static void
first_cb(struct loop *loop, int fd, unsigned events, void *arg)
{
	struct pair *pr = arg;
	char c;

	(void)events;
	pr->first_calls++;
	(void)read(fd, &c, 1);
	if (pr->first_calls > 1)
		return;
	pr->other = fd == pr->a[0] ? pr->b[0] : pr->a[0];
	if (pr->mode == PAIR_MASK0)
		assert_int_equal(loop_set_fd(loop, pr->other, 0), 0);
	else
		loop_del_fd(loop, pr->other);
	assert_non_null(loop_timer_add(loop, 0, end_of_iteration_cb, pr));
	if (pr->mode != PAIR_READD) {
		assert_non_null(loop_timer_add(loop, 30, stop_cb, NULL));
		return;
	}
	/* same number, new (empty) pipe behind it */
	make_pipe(pr->fresh);
	assert_int_equal(dup2(pr->fresh[0], pr->other), pr->other);
	assert_int_equal(loop_add_fd(loop, pr->other, LOOP_READ, new_cb, pr),
	    0);
}

static void
feed_fresh_cb(struct loop *loop, void *arg)
{
	struct pair *pr = arg;

	(void)loop;
	put_byte(pr->fresh[1]);
}

static void
run_pair(enum pair_mode mode)
{
	struct loop *loop = loop_new();
	bool readd = mode == PAIR_READD;
	struct pair pr;

	memset(&pr, 0, sizeof(pr));
	pr.mode = mode;
	make_pipe(pr.a);
	make_pipe(pr.b);
	put_byte(pr.a[1]);
	put_byte(pr.b[1]);
	assert_int_equal(loop_add_fd(loop, pr.a[0], LOOP_READ, first_cb, &pr),
	    0);
	assert_int_equal(loop_add_fd(loop, pr.b[0], LOOP_READ, first_cb, &pr),
	    0);
	if (readd)
		assert_non_null(loop_timer_add(loop, 20, feed_fresh_cb, &pr));
	assert_int_equal(loop_run(loop), 0);
	assert_int_equal(pr.first_calls, 1);
	assert_true(pr.iteration_over);
	assert_int_equal(pr.new_calls, readd ? 1 : 0);
	loop_del_fd(loop, pr.a[0]);
	loop_del_fd(loop, pr.b[0]);
	close(pr.a[0]);
	close(pr.a[1]);
	close(pr.b[0]);
	close(pr.b[1]);
	if (readd) {
		close(pr.fresh[0]);
		close(pr.fresh[1]);
	}
	loop_free(&loop);
}

static void
test_del_during_dispatch(void **state)
{
	(void)state;
	run_pair(PAIR_DEL);
}

static void
test_del_readd_during_dispatch(void **state)
{
	(void)state;
	run_pair(PAIR_READD);
}

static void
test_mask0_during_dispatch(void **state)
{
	(void)state;
	run_pair(PAIR_MASK0);
}

/*
 * Many ready fds (more than one epoll_wait returns), and a callback that
 * grows the fd table (realloc) in the middle of dispatch.
 */
#define MANY	2000

struct many {
	int calls;
	int high;			/* a far fd number, added mid-dispatch */
	bool high_called;
};

static void
high_cb(struct loop *loop, int fd, unsigned events, void *arg)
{
	struct many *m = arg;
	uint64_t v;

	(void)events;
	assert_int_equal(read(fd, &v, sizeof(v)), sizeof(v));
	m->high_called = true;
	loop_del_fd(loop, fd);
	if (m->calls == MANY)
		loop_stop(loop);
}

static void
many_cb(struct loop *loop, int fd, unsigned events, void *arg)
{
	struct many *m = arg;
	uint64_t v;
	int efd;

	assert_int_equal(events, LOOP_READ);
	assert_int_equal(read(fd, &v, sizeof(v)), sizeof(v));
	loop_del_fd(loop, fd);
	close(fd);
	if (++m->calls == 1) {
		assert_true((efd = eventfd(1, EFD_NONBLOCK)) >= 0);
		assert_int_equal(dup2(efd, m->high), m->high);
		close(efd);
		assert_int_equal(loop_add_fd(loop, m->high, LOOP_READ,
		    high_cb, m), 0);
	}
	if (m->calls == MANY && m->high_called)
		loop_stop(loop);
}

static void
test_many_fds(void **state)
{
	struct loop *loop = loop_new();
	struct many m = { 0, 4500, false };
	struct rlimit rl;
	int i, fd;

	(void)state;
	/* MANY eventfds and fd 4500: raise the soft limit if need be. */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < 5000 && rl.rlim_max >= 5000) {
		rl.rlim_cur = 5000;
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	if (rl.rlim_cur < 5000) {
		loop_free(&loop);
		skip();
	}
	for (i = 0; i < MANY; i++) {
		assert_true((fd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC)) >= 0);
		assert_int_equal(loop_add_fd(loop, fd, LOOP_READ, many_cb, &m),
		    0);
	}
	assert_int_equal(loop_run(loop), 0);
	assert_int_equal(m.calls, MANY);
	assert_true(m.high_called);
	close(m.high);
	loop_free(&loop);
}

static void
test_fd_errors(void **state)
{
	struct loop *loop = loop_new();
	struct rec r = { 0, -1, 0 };
	char path[] = "/tmp/test_loop.XXXXXX";
	int p[2], fd;

	(void)state;
	make_pipe(p);
	assert_int_equal(loop_add_fd(loop, -1, LOOP_READ, rec_cb, &r), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(loop_add_fd(loop, p[0], 8, rec_cb, &r), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(loop_add_fd(loop, p[0], LOOP_READ, NULL, &r), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(loop_set_fd(loop, p[0], LOOP_READ), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(loop_set_fd(loop, 100000, LOOP_READ), -1);
	assert_int_equal(errno, ENOENT);
	loop_del_fd(loop, p[0]);	/* not watched: no-op */
	loop_del_fd(loop, -1);
	assert_int_equal(loop_add_fd(loop, p[0], LOOP_READ, rec_cb, &r), 0);
	assert_int_equal(loop_add_fd(loop, p[0], LOOP_READ, rec_cb, &r), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(loop_set_fd(loop, p[0], LOOP_ERROR), -1);
	assert_int_equal(errno, EINVAL);
	/* epoll refuses regular files: the fd is then not watched */
	assert_true((fd = mkstemp(path)) >= 0);
	unlink(path);
	assert_int_equal(loop_add_fd(loop, fd, LOOP_READ, rec_cb, &r), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(loop_set_fd(loop, fd, LOOP_READ), -1);
	assert_int_equal(errno, ENOENT);
	/* with mask 0 it is accepted; asking for READ fails, mask kept */
	assert_int_equal(loop_add_fd(loop, fd, 0, rec_cb, &r), 0);
	assert_int_equal(loop_set_fd(loop, fd, LOOP_READ), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(loop_set_fd(loop, fd, 0), 0);
	loop_del_fd(loop, fd);
	close(fd);
	loop_del_fd(loop, p[0]);
	close(p[0]);
	close(p[1]);
	loop_free(&loop);
}

/* Timers */

struct order {
	int n;
	int seen[16];
	struct loop_timer *cancel_me;
};

struct tag {
	struct order *o;
	int id;
	uint64_t due;
};

static void
order_cb(struct loop *loop, void *arg)
{
	struct tag *t = arg;

	assert_true(loop_now_ms(loop) >= t->due);
	t->o->seen[t->o->n++] = t->id;
}

static void
cancel_other_cb(struct loop *loop, void *arg)
{
	struct tag *t = arg;

	order_cb(loop, arg);
	loop_timer_cancel(loop, &t->o->cancel_me);
	assert_null(t->o->cancel_me);
}

static void
test_timer_order(void **state)
{
	struct loop *loop = loop_new();
	struct order o;
	struct tag tags[6];
	struct loop_timer *t, *none = NULL;
	static const uint64_t after[6] = { 30, 10, 20, 10, 0, 25 };
	uint64_t start;
	int i;

	(void)state;
	memset(&o, 0, sizeof(o));
	start = loop_now_ms(loop);
	for (i = 0; i < 6; i++) {
		tags[i] = (struct tag){ &o, i, start + after[i] };
		t = loop_timer_add(loop, after[i],
		    i == 2 ? cancel_other_cb : order_cb, &tags[i]);
		assert_non_null(t);
		if (i == 5)
			o.cancel_me = t;	/* cancelled by timer 2 */
	}
	/* cancel one before it runs; NULL is a no-op */
	t = loop_timer_add(loop, 5, order_cb, &tags[0]);
	loop_timer_cancel(loop, &t);
	assert_null(t);
	loop_timer_cancel(loop, &none);
	assert_non_null(loop_timer_add(loop, 40, stop_cb, NULL));
	assert_int_equal(loop_run(loop), 0);
	/* by due time; equal due times in the order added */
	assert_int_equal(o.n, 5);
	assert_int_equal(o.seen[0], 4);
	assert_int_equal(o.seen[1], 1);
	assert_int_equal(o.seen[2], 3);
	assert_int_equal(o.seen[3], 2);
	assert_int_equal(o.seen[4], 0);
	assert_true(loop_now_ms(loop) >= start + 40);
	loop_free(&loop);
}

/*
 * Thousands of timers in pseudo-random order, a third cancelled: the
 * rest fire once each, by due time, never early.
 */
#define NTIMERS	10000

struct heap_test {
	struct loop_timer *h[NTIMERS];
	uint64_t due[NTIMERS];
	bool fired[NTIMERS];
	int nfired;
	uint64_t last_due;
	int last_id;
};

static struct heap_test *heap_test;

static void
heap_cb(struct loop *loop, void *arg)
{
	struct heap_test *ht = heap_test;
	int id = (int)(intptr_t)arg;

	assert_false(ht->fired[id]);
	assert_true(loop_now_ms(loop) >= ht->due[id]);
	assert_true(ht->due[id] > ht->last_due ||
	    (ht->due[id] == ht->last_due && id > ht->last_id));
	ht->fired[id] = true;
	ht->h[id] = NULL;
	ht->last_due = ht->due[id];
	ht->last_id = id;
	ht->nfired++;
}

static void
test_timer_heap(void **state)
{
	struct loop *loop = loop_new();
	struct heap_test *ht = calloc(1, sizeof(*ht));
	uint32_t x = 12345;
	uint64_t start, after;
	int i, cancelled = 0;

	(void)state;
	assert_non_null(ht);
	heap_test = ht;
	start = loop_now_ms(loop);
	for (i = 0; i < NTIMERS; i++) {
		x = x * 1103515245 + 12345;	/* LCG: order only */
		after = (x >> 16) % 60;
		ht->due[i] = start + after;
		ht->h[i] = loop_timer_add(loop, after, heap_cb,
		    (void *)(intptr_t)i);
		assert_non_null(ht->h[i]);
	}
	for (i = 0; i < NTIMERS; i += 3) {
		loop_timer_cancel(loop, &ht->h[i]);
		cancelled++;
	}
	/* one far in the future, left pending for loop_free() */
	assert_non_null(loop_timer_add(loop, UINT64_MAX, stop_cb, NULL));
	assert_non_null(loop_timer_add(loop, 80, stop_cb, NULL));
	assert_int_equal(loop_run(loop), 0);
	assert_int_equal(ht->nfired, NTIMERS - cancelled);
	for (i = 0; i < NTIMERS; i++)
		assert_true(ht->fired[i] == (i % 3 != 0));
	loop_free(&loop);
	free(ht);
}

/*
 * A timer re-arming itself with 0 ms runs once per iteration, so the
 * fds still get their turn: the fd made readable by the third run is
 * served in the next iteration, before a fourth.
 */
struct rearm {
	int timer_calls;
	int fd_calls;
	int wfd;
};

static void
rearm_cb(struct loop *loop, void *arg)
{
	struct rearm *ra = arg;

	ra->timer_calls++;
	assert_true(ra->timer_calls < 1000);
	if (ra->timer_calls == 3)
		put_byte(ra->wfd);
	assert_non_null(loop_timer_add(loop, 0, rearm_cb, ra));
}

static void
rearm_fd_cb(struct loop *loop, int fd, unsigned events, void *arg)
{
	struct rearm *ra = arg;
	char c;

	(void)events;
	(void)read(fd, &c, 1);
	ra->fd_calls++;
	loop_stop(loop);
}

static void
test_timer_rearm_no_starve(void **state)
{
	struct loop *loop = loop_new();
	struct rearm ra = { 0, 0, -1 };
	int p[2];

	(void)state;
	make_pipe(p);
	ra.wfd = p[1];
	assert_non_null(loop_timer_add(loop, 0, rearm_cb, &ra));
	assert_int_equal(loop_add_fd(loop, p[0], LOOP_READ, rearm_fd_cb, &ra),
	    0);
	assert_int_equal(loop_run(loop), 0);
	assert_int_equal(ra.fd_calls, 1);
	assert_int_equal(ra.timer_calls, 3);
	loop_del_fd(loop, p[0]);
	close(p[0]);
	close(p[1]);
	loop_free(&loop);	/* frees the pending re-armed timer */
}

/* A signal interrupting epoll_wait is not an error. */
static volatile sig_atomic_t alarms;

static void
on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void
test_eintr(void **state)
{
	struct loop *loop = loop_new();
	struct sigaction sa, old;
	struct itimerval it;

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART */
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 10000;
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
	assert_non_null(loop_timer_add(loop, 60, stop_cb, NULL));
	assert_int_equal(loop_run(loop), 0);
	assert_int_equal(alarms, 1);
	assert_int_equal(sigaction(SIGALRM, &old, NULL), 0);
	loop_free(&loop);
}

/* loop_now_ms() is cached: it moves only between iterations. */
static void
now_cb(struct loop *loop, void *arg)
{
	uint64_t *seen = arg;
	struct timespec ts = { 0, 5 * 1000000 };

	seen[0] = loop_now_ms(loop);
	nanosleep(&ts, NULL);
	seen[1] = loop_now_ms(loop);
	loop_stop(loop);
}

static void
test_now_cached(void **state)
{
	struct loop *loop = loop_new();
	uint64_t seen[2] = { 0, 0 }, before;

	(void)state;
	before = loop_now_ms(loop);
	assert_non_null(loop_timer_add(loop, 10, now_cb, seen));
	assert_int_equal(loop_run(loop), 0);
	assert_int_equal(seen[0], seen[1]);
	assert_true(seen[0] >= before + 10);
	loop_free(&loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_read),
		cmocka_unit_test(test_fd_write_and_mask),
		cmocka_unit_test(test_fd_hup_mask0_no_spin),
		cmocka_unit_test(test_del_during_dispatch),
		cmocka_unit_test(test_del_readd_during_dispatch),
		cmocka_unit_test(test_mask0_during_dispatch),
		cmocka_unit_test(test_many_fds),
		cmocka_unit_test(test_fd_errors),
		cmocka_unit_test(test_timer_order),
		cmocka_unit_test(test_timer_heap),
		cmocka_unit_test(test_timer_rearm_no_starve),
		cmocka_unit_test(test_eintr),
		cmocka_unit_test(test_now_cached),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
