/*
 * loop.h - the event loop: epoll for file descriptors, a monotonic
 * clock and one-shot timers.  One loop per process, single-threaded.
 * Sized like Redis's ae.c: no priorities, no threads.
 */
#ifndef LOOP_H
#define LOOP_H

#include <stdint.h>

#define LOOP_READ	0x1	/* fd is readable (or at EOF / in error) */
#define LOOP_WRITE	0x2	/* fd is writable (or in error) */
#define LOOP_ERROR	0x4	/* EPOLLERR/EPOLLHUP (with mask's READ|WRITE) */

struct loop;
struct loop_timer;

/* EVENTS is a mask of LOOP_READ/LOOP_WRITE/LOOP_ERROR that fired. */
typedef void loop_fd_cb(struct loop *loop, int fd, unsigned events,
    void *arg);
typedef void loop_timer_cb(struct loop *loop, void *arg);

/* A new loop, or NULL with errno set. */
struct loop *loop_new(void);
/* Frees the loop (not the fds or callbacks' objects); clears *loop. */
void loop_free(struct loop **loop);

/*
 * Watch FD for the events in MASK (LOOP_READ|LOOP_WRITE, possibly 0)
 * and call CB(loop, fd, events, ARG) when one fires.  Level-triggered.
 * Returns 0, or -1 with errno set (EEXIST: FD is already watched;
 * EINVAL: other bits in MASK; or epoll_ctl's errno).  loop_set_fd
 * changes the mask of a watched fd (ENOENT if it is not watched);
 * loop_del_fd stops watching (call it before close(); an fd not
 * watched is a no-op).  With mask 0 nothing is reported for the fd,
 * not even LOOP_ERROR, until the mask asks again.
 *
 * A callback may add, change or delete any fd, its own included:
 * events for an fd deleted during the current iteration are not
 * delivered, not even to a new watcher added under the same number,
 * and events the fd's mask no longer asks for are dropped.
 */
int loop_add_fd(struct loop *loop, int fd, unsigned mask, loop_fd_cb *cb,
    void *arg);
int loop_set_fd(struct loop *loop, int fd, unsigned mask);
void loop_del_fd(struct loop *loop, int fd);

/*
 * Call CB(loop, ARG) once, AFTER_MS milliseconds after loop_now_ms().
 * Returns a handle for loop_timer_cancel(), or NULL with errno set.
 * The handle is invalid once the callback has started (the loop frees
 * it just before the call: clear your copy in the callback) or the
 * timer was cancelled.  Timers due at the same time fire in the order
 * they were added; a timer added by a timer callback fires in a later
 * iteration at the earliest, even with AFTER_MS 0.  O(log n).
 */
struct loop_timer *loop_timer_add(struct loop *loop, uint64_t after_ms,
    loop_timer_cb *cb, void *arg);
/* Cancel a pending timer; clears *timer.  NULL is a no-op.  O(log n). */
void loop_timer_cancel(struct loop *loop, struct loop_timer **timer);

/* Milliseconds on CLOCK_MONOTONIC, cached per iteration. */
uint64_t loop_now_ms(struct loop *loop);

/*
 * Run until loop_stop() is called.  Each iteration waits for an fd or
 * the nearest timer, refreshes loop_now_ms(), calls the fd callbacks,
 * then the timers that are due.  Returns 0, or -1 with errno set if
 * epoll_wait failed for a reason other than EINTR (a signal just ends
 * the wait).  loop_stop() takes effect after the current callback:
 * events not yet dispatched are reported again by a later loop_run()
 * if they still hold (level-triggered).
 */
int loop_run(struct loop *loop);
void loop_stop(struct loop *loop);

#endif
