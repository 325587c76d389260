/*
 * loop.c - the event loop: level-triggered epoll, a table of watched
 * fds indexed by fd, and one-shot timers in a binary min-heap.
 *
 * One iteration: wait for the nearest timer or an fd, dispatch the fds
 * that fired, then run the timers that are due.  The clock is read once
 * after the wait, so every callback of an iteration sees the same
 * loop_now_ms().
 */
#include "loop.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

/*
 * Ready fds taken from the kernel per epoll_wait().  More ready fds are
 * not lost: level-triggered epoll reports them again on the next call.
 */
#define LOOP_EVENTS_MAX		512

struct loop_fd {
	loop_fd_cb *cb;			/* NULL: not watched */
	void *arg;
	unsigned mask;			/* LOOP_READ|LOOP_WRITE */
	/*
	 * Bumped on every loop_add_fd() and loop_del_fd() of this fd, and
	 * carried in epoll's data next to the fd, so an event that was
	 * collected for an earlier watcher of the same fd number is
	 * recognised and dropped.
	 */
	uint32_t gen;
};

struct loop_timer {
	uint64_t due;			/* loop_now_ms() at which it fires */
	uint64_t seq;			/* ties: first added fires first */
	size_t index;			/* position in loop->heap */
	loop_timer_cb *cb;
	void *arg;
};

struct loop {
	int epfd;
	bool stop;
	uint64_t now;			/* cached CLOCK_MONOTONIC, ms */
	struct loop_fd *fds;		/* indexed by fd */
	size_t nfds;			/* slots in fds */
	struct loop_timer **heap;	/* min-heap on (due, seq) */
	size_t ntimers, heapsize;
	uint64_t timer_seq;
	struct epoll_event events[LOOP_EVENTS_MAX];
};

static uint64_t
clock_ms(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct loop *
loop_new(void)
{
	struct loop *loop;

	if ((loop = calloc(1, sizeof(*loop))) == NULL)
		return NULL;
	if ((loop->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		int saved = errno;

		free(loop);
		errno = saved;
		return NULL;
	}
	loop->now = clock_ms();
	return loop;
}

void
loop_free(struct loop **loopp)
{
	struct loop *loop = *loopp;
	size_t i;

	if (loop == NULL)
		return;
	*loopp = NULL;
	close(loop->epfd);
	for (i = 0; i < loop->ntimers; i++)
		free(loop->heap[i]);
	free(loop->heap);
	free(loop->fds);
	free(loop);
}

/* fd table */

static int
fds_reserve(struct loop *loop, int fd)
{
	struct loop_fd *fds;
	size_t n;

	if ((size_t)fd < loop->nfds)
		return 0;
	n = loop->nfds ? loop->nfds : 64;
	while (n <= (size_t)fd)
		n *= 2;
	if ((fds = reallocarray(loop->fds, n, sizeof(*fds))) == NULL)
		return -1;
	memset(fds + loop->nfds, 0, (n - loop->nfds) * sizeof(*fds));
	loop->fds = fds;
	loop->nfds = n;
	return 0;
}

static struct loop_fd *
fds_get(struct loop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->nfds || loop->fds[fd].cb == NULL)
		return NULL;
	return &loop->fds[fd];
}

/*
 * Bring epoll's interest list from mask OLD to NEW for FD.  An fd with
 * an empty mask is taken out of epoll altogether: EPOLLERR and EPOLLHUP
 * are reported even with no events requested, and level-triggered they
 * would wake us forever while a session is not reading that fd.
 */
static int
epoll_update(struct loop *loop, int fd, uint32_t gen, unsigned old_mask,
    unsigned new_mask)
{
	struct epoll_event ev;
	int op;

	if (old_mask == new_mask)
		return 0;
	if (new_mask == 0) {
		/* Fails only if the fd was closed first: nothing to undo. */
		(void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
		return 0;
	}
	memset(&ev, 0, sizeof(ev));
	if (new_mask & LOOP_READ)
		ev.events |= EPOLLIN;
	if (new_mask & LOOP_WRITE)
		ev.events |= EPOLLOUT;
	ev.data.u64 = (uint64_t)gen << 32 | (uint32_t)fd;
	op = old_mask == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	return epoll_ctl(loop->epfd, op, fd, &ev);
}

int
loop_add_fd(struct loop *loop, int fd, unsigned mask, loop_fd_cb *cb,
    void *arg)
{
	struct loop_fd *f;

	if (fd < 0 || cb == NULL || (mask & ~(LOOP_READ | LOOP_WRITE))) {
		errno = fd < 0 ? EBADF : EINVAL;
		return -1;
	}
	if (fds_get(loop, fd) != NULL) {
		errno = EEXIST;
		return -1;
	}
	if (fds_reserve(loop, fd) == -1)
		return -1;
	f = &loop->fds[fd];
	if (epoll_update(loop, fd, f->gen + 1, 0, mask) == -1)
		return -1;
	f->gen++;
	f->cb = cb;
	f->arg = arg;
	f->mask = mask;
	return 0;
}

int
loop_set_fd(struct loop *loop, int fd, unsigned mask)
{
	struct loop_fd *f;

	if ((f = fds_get(loop, fd)) == NULL) {
		errno = ENOENT;
		return -1;
	}
	if (mask & ~(LOOP_READ | LOOP_WRITE)) {
		errno = EINVAL;
		return -1;
	}
	if (epoll_update(loop, fd, f->gen, f->mask, mask) == -1)
		return -1;
	f->mask = mask;
	return 0;
}

void
loop_del_fd(struct loop *loop, int fd)
{
	struct loop_fd *f;

	if ((f = fds_get(loop, fd)) == NULL)
		return;
	(void)epoll_update(loop, fd, f->gen, f->mask, 0);
	f->gen++;
	f->cb = NULL;
	f->arg = NULL;
	f->mask = 0;
}

/* timers: a binary min-heap; each knows its index, so cancel is O(log n) */

static bool
timer_before(const struct loop_timer *a, const struct loop_timer *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void
heap_set(struct loop *loop, size_t i, struct loop_timer *t)
{
	loop->heap[i] = t;
	t->index = i;
}

static void
heap_up(struct loop *loop, size_t i)
{
	struct loop_timer *t = loop->heap[i];
	size_t parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (!timer_before(t, loop->heap[parent]))
			break;
		heap_set(loop, i, loop->heap[parent]);
		i = parent;
	}
	heap_set(loop, i, t);
}

static void
heap_down(struct loop *loop, size_t i)
{
	struct loop_timer *t = loop->heap[i];
	size_t child;

	for (;;) {
		child = 2 * i + 1;
		if (child >= loop->ntimers)
			break;
		if (child + 1 < loop->ntimers &&
		    timer_before(loop->heap[child + 1], loop->heap[child]))
			child++;
		if (!timer_before(loop->heap[child], t))
			break;
		heap_set(loop, i, loop->heap[child]);
		i = child;
	}
	heap_set(loop, i, t);
}

/* Take the timer at index I out of the heap (it is not freed). */
static void
heap_remove(struct loop *loop, size_t i)
{
	struct loop_timer *last;

	assert(i < loop->ntimers);
	last = loop->heap[--loop->ntimers];
	if (i == loop->ntimers)
		return;
	heap_set(loop, i, last);
	if (i > 0 && timer_before(last, loop->heap[(i - 1) / 2]))
		heap_up(loop, i);
	else
		heap_down(loop, i);
}

struct loop_timer *
loop_timer_add(struct loop *loop, uint64_t after_ms, loop_timer_cb *cb,
    void *arg)
{
	struct loop_timer *t, **heap;
	size_t n;

	if (cb == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if (loop->ntimers == loop->heapsize) {
		n = loop->heapsize ? loop->heapsize * 2 : 64;
		if ((heap = reallocarray(loop->heap, n, sizeof(*heap))) == NULL)
			return NULL;
		loop->heap = heap;
		loop->heapsize = n;
	}
	if ((t = malloc(sizeof(*t))) == NULL)
		return NULL;
	/* Saturate: a timer that far away simply never fires. */
	t->due = after_ms > UINT64_MAX - loop->now ? UINT64_MAX :
	    loop->now + after_ms;
	t->seq = loop->timer_seq++;
	t->cb = cb;
	t->arg = arg;
	heap_set(loop, loop->ntimers++, t);
	heap_up(loop, t->index);
	return t;
}

void
loop_timer_cancel(struct loop *loop, struct loop_timer **timerp)
{
	struct loop_timer *t = *timerp;

	if (t == NULL)
		return;
	*timerp = NULL;
	/* Not a pending timer of this loop: a caller's bug. */
	assert(t->index < loop->ntimers && loop->heap[t->index] == t);
	heap_remove(loop, t->index);
	free(t);
}

/*
 * Run the timers due now.  Timers added by these callbacks wait for the
 * next iteration, even with after_ms 0, so a timer that re-arms itself
 * cannot starve the fds: only those numbered below LIMIT run.  Because
 * the heap orders equal due times by number, and a new timer is never
 * due before now, the first too-new timer at the top ends the pass.
 */
static void
timers_run(struct loop *loop)
{
	struct loop_timer *t;
	uint64_t limit = loop->timer_seq;
	loop_timer_cb *cb;
	void *arg;

	while (loop->ntimers > 0 && !loop->stop) {
		t = loop->heap[0];
		if (t->due > loop->now || t->seq >= limit)
			break;
		heap_remove(loop, 0);
		cb = t->cb;
		arg = t->arg;
		free(t);
		cb(loop, arg);
	}
}

/* epoll_wait's timeout: until the nearest timer, -1 if there is none. */
static int
timers_timeout(struct loop *loop)
{
	uint64_t due;

	if (loop->ntimers == 0)
		return -1;
	due = loop->heap[0]->due;
	if (due <= loop->now)
		return 0;
	if (due - loop->now > INT_MAX)
		return INT_MAX;
	return (int)(due - loop->now);
}

uint64_t
loop_now_ms(struct loop *loop)
{
	return loop->now;
}

/*
 * Each event is checked against the fd table as it is now, not as it was
 * when epoll_wait returned: an earlier callback of this iteration may have
 * deleted the fd (the slot is empty), deleted it and added a new object
 * under the same number (the generation differs), or narrowed its mask.
 */
static void
fds_dispatch(struct loop *loop, int n)
{
	struct loop_fd *f;
	uint32_t ev, gen;
	unsigned events;
	int fd, i;

	for (i = 0; i < n && !loop->stop; i++) {
		ev = loop->events[i].events;
		fd = (int)(uint32_t)loop->events[i].data.u64;
		gen = (uint32_t)(loop->events[i].data.u64 >> 32);
		if ((f = fds_get(loop, fd)) == NULL || f->gen != gen)
			continue;
		events = 0;
		if (ev & EPOLLIN)
			events |= LOOP_READ;
		if (ev & EPOLLOUT)
			events |= LOOP_WRITE;
		if (ev & (EPOLLERR | EPOLLHUP))
			events |= LOOP_ERROR | LOOP_READ | LOOP_WRITE;
		/*
		 * Nothing the watcher asks for now.  Level-triggered, it is
		 * reported again once the mask asks for it.
		 */
		if ((events & f->mask) == 0)
			continue;
		events &= f->mask | LOOP_ERROR;
		f->cb(loop, fd, events, f->arg);
	}
}

int
loop_run(struct loop *loop)
{
	int n;

	loop->stop = false;
	loop->now = clock_ms();
	while (!loop->stop) {
		n = epoll_wait(loop->epfd, loop->events, LOOP_EVENTS_MAX,
		    timers_timeout(loop));
		if (n == -1) {
			if (errno != EINTR)
				return -1;
			n = 0;
		}
		loop->now = clock_ms();
		fds_dispatch(loop, n);
		timers_run(loop);
	}
	return 0;
}

void
loop_stop(struct loop *loop)
{
	loop->stop = true;
}
