/*
 * main.c - msgeventd: command line, signals, configuration, the loop.
 *
 *   msgeventd -c FILE        run in the foreground
 *   msgeventd -c FILE -t     check the configuration and exit
 *   msgeventd -V             print the version and exit
 *
 * SIGTERM/SIGINT: stop accepting, let sessions finish for shutdown-grace
 * seconds, flush the outputs, exit 0.  SIGHUP: read the configuration
 * again; if it is good, apply it to new sessions (listeners opened and
 * closed, outputs replaced) without touching established ones.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "../outputs/out.h"
#include "config.h"
#include "diag.h"
#include "loop.h"
#include "session.h"
#include "tls.h"

#ifndef MSGEVENTD_VERSION
#define MSGEVENTD_VERSION "0"
#endif

/* How long the outputs get to send what is queued at exit or reload. */
#define FLUSH_EXIT_MS	3000
#define FLUSH_RELOAD_MS	200
/* While draining at shutdown, how often to look whether sessions are gone. */
#define DRAIN_POLL_MS	50

struct daemon {
	struct loop *loop;
	struct session_set *sessions;
	struct out *out;
	struct config *config;
	const char *config_path;
	int sigfd;
	bool stopping;
	uint64_t stop_deadline;
};

static void
usage(void)
{
	fprintf(stderr, "usage: msgeventd -c FILE [-t] [-d]\n"
	    "       msgeventd -V\n");
}

/*
 * An `output snmp` line.  Its name in diagnostics carries the kind and
 * the receiver, never the community or a pass phrase.
 */
static int
output_snmp_add(struct out *out, const struct config *config,
    const struct config_output *co)
{
	const struct config_snmp *sn = &co->snmp;
	struct out_snmp_target t;
	char name[CONFIG_NAME_MAX + 32], err[256];

	snprintf(name, sizeof(name), "snmp %s udp:%s",
	    sn->inform ? "inform" : "trap", co->addr.text);
	memset(&t, 0, sizeof(t));
	t.name = name;
	t.inform = sn->inform;
	t.sa = (const struct sockaddr *)&co->addr.sa;
	t.salen = co->addr.salen;
	t.version = sn->version == 3 ? OUT_SNMP_V3 : OUT_SNMP_V2C;
	t.community = sn->community;
	t.user = sn->user;
	t.auth_proto = sn->auth_proto[0] != '\0' ? sn->auth_proto : NULL;
	t.auth_pass = sn->auth_pass;
	t.priv_proto = sn->priv_proto[0] != '\0' ? sn->priv_proto : NULL;
	t.priv_pass = sn->priv_pass;
	t.queue_bytes = config->output_queue;
	t.max_size = config->snmp_max_size;
	t.retries = config->snmp_inform_retries;
	t.timeout_ms = config->snmp_inform_timeout;
	t.state_dir = config->state_dir;
	if (config->snmp_engine_id_len > 0) {
		t.engine_id = config->snmp_engine_id;
		t.engine_id_len = config->snmp_engine_id_len;
	}
	if (out_add_snmp(out, &t, err, sizeof(err)) < 0) {
		diag_error("%s:%d: output %s: %s", config->file, co->line, name,
		    err[0] != '\0' ? err : strerror(errno));
		return -1;
	}
	return 0;
}

/* The fan-out for CONFIG's output lines, or NULL (reported) on failure. */
static struct out *
outputs_build(struct loop *loop, const struct config *config)
{
	struct out *out;
	const struct config_output *co;
	struct out_syslog_opts opts;
	struct out_syslog_target target;
	struct tls_ctx *tls = NULL;
	char name[CONFIG_PATH_MAX + 16], err[CONFIG_PATH_MAX + 256];
	int rc;

	out = out_new(loop);
	if (out == NULL) {
		diag_error("outputs: %s", strerror(errno));
		return NULL;
	}
	memset(&opts, 0, sizeof(opts));
	opts.hostname = config->server_name;
	opts.sd_id = config->syslog_sd_id;
	opts.facility = config->syslog_facility;
	opts.procid = (unsigned long)getpid();
	opts.max_size = config->syslog_max_size;
	for (co = config->outputs; co != NULL; co = co->next) {
		memset(&target, 0, sizeof(target));
		target.queue_bytes = config->output_queue;
		switch (co->kind) {
		case CONFIG_OUTPUT_SYSLOG_UDP:
			target.transport = OUT_TRANSPORT_UDP;
			snprintf(name, sizeof(name), "udp://%s", co->addr.text);
			break;
		case CONFIG_OUTPUT_SYSLOG_TCP:
			target.transport = OUT_TRANSPORT_TCP;
			snprintf(name, sizeof(name), "tcp://%s", co->addr.text);
			break;
		case CONFIG_OUTPUT_SYSLOG_UNIX:
			target.transport = OUT_TRANSPORT_UNIX;
			target.path = co->path;
			snprintf(name, sizeof(name), "unix:%s", co->path);
			break;
		case CONFIG_OUTPUT_SYSLOG_STDERR:
			target.transport = OUT_TRANSPORT_STDERR;
			snprintf(name, sizeof(name), "stderr");
			break;
		case CONFIG_OUTPUT_SYSLOG_TLS:
			target.transport = OUT_TRANSPORT_TLS;
			snprintf(name, sizeof(name), "tls://%s", co->addr.text);
			/* Read now: a CA gone bad fails start and reload. */
			tls = tls_ctx_client_ca(co->path, err, sizeof(err));
			if (tls == NULL) {
				diag_error("%s:%d: output %s: %s%s",
				    config->file, co->line, name,
				    co->path[0] != '\0' ? "ca " : "", err);
				out_free(&out);
				return NULL;
			}
			target.tls = tls;
			target.tls_name = co->tls_name;
			break;
		case CONFIG_OUTPUT_SNMP:
			if (output_snmp_add(out, config, co) < 0) {
				out_free(&out);
				return NULL;
			}
			continue;
		}
		target.name = name;
		target.sa = (const struct sockaddr *)&co->addr.sa;
		target.salen = co->addr.salen;
		rc = out_add_syslog(out, &opts, &target);
		tls_ctx_unref(&tls);	/* the output took its own */
		if (rc < 0) {
			diag_error("%s:%d: output %s: %s", config->file,
			    co->line, name, strerror(errno));
			out_free(&out);
			return NULL;
		}
	}
	if (config->outputs == NULL)
		diag_warn("no 'output' configured: events are inferred but "
		    "go nowhere");
	return out;
}

static void
daemon_reload(struct daemon *d)
{
	char err[CONFIG_ERROR_MAX];
	struct config *config;
	struct out *out;

	config = config_load(d->config_path, err);
	if (config == NULL) {
		diag_error("reload: %s; keeping the running configuration",
		    err);
		return;
	}
	out = outputs_build(d->loop, config);
	if (out == NULL) {
		diag_error("reload: keeping the running configuration");
		config_free(&config);
		return;
	}
	if (session_set_configure(d->sessions, config, err, sizeof(err)) < 0) {
		diag_error("reload: %s; keeping the running configuration",
		    err);
		out_free(&out);
		config_free(&config);
		return;
	}
	session_set_out(d->sessions, out);
	(void)out_flush(d->out, FLUSH_RELOAD_MS);
	out_free(&d->out);
	d->out = out;
	config_free(&d->config);
	d->config = config;
	diag_info("configuration reloaded from %s", d->config_path);
}

static void
daemon_drain(struct loop *loop, void *arg)
{
	struct daemon *d = arg;
	size_t left = session_set_count(d->sessions);

	if (left == 0 || loop_now_ms(loop) >= d->stop_deadline) {
		if (left > 0)
			diag_info("shutdown: ending %zu sessions still open "
			    "after %u s", left, d->config->shutdown_grace);
		loop_stop(loop);
		return;
	}
	if (loop_timer_add(loop, DRAIN_POLL_MS, daemon_drain, d) == NULL)
		loop_stop(loop);
}

static void
daemon_signal(struct loop *loop, int fd, unsigned events, void *arg)
{
	struct daemon *d = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			daemon_reload(d);
			break;
		case SIGTERM:
		case SIGINT:
			if (d->stopping) {
				loop_stop(loop);
				break;
			}
			d->stopping = true;
			diag_info("shutdown: no new sessions; waiting up to "
			    "%u s for %zu open", d->config->shutdown_grace,
			    session_set_count(d->sessions));
			session_set_stop_listening(d->sessions);
			d->stop_deadline = loop_now_ms(loop) +
			    (uint64_t)d->config->shutdown_grace * 1000;
			daemon_drain(loop, d);
			break;
		}
	}
}

int
main(int argc, char **argv)
{
	struct daemon d;
	char err[CONFIG_ERROR_MAX];
	const char *path = NULL;
	bool test = false;
	sigset_t mask;
	size_t left;
	int c;

	while ((c = getopt(argc, argv, "c:tdVh")) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 't':
			test = true;
			break;
		case 'd':
			diag_set_level(DIAG_DEBUG);
			break;
		case 'V':
			printf("msgeventd %s\n", MSGEVENTD_VERSION);
			return 0;
		default:
			usage();
			return 1;
		}
	}
	if (path == NULL || optind != argc) {
		usage();
		return 1;
	}

	memset(&d, 0, sizeof(d));
	d.config_path = path;
	d.config = config_load(path, err);
	if (d.config == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (test) {
		/* certificates, keys and TLS lists are part of the check */
		if (tls_config_check(d.config, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			config_free(&d.config);
			return 1;
		}
		config_free(&d.config);
		return 0;
	}

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	d.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	d.loop = loop_new();
	if (d.sigfd < 0 || d.loop == NULL) {
		diag_error("start: %s", strerror(errno));
		return 1;
	}
	if (loop_add_fd(d.loop, d.sigfd, LOOP_READ, daemon_signal, &d) < 0) {
		diag_error("start: %s", strerror(errno));
		return 1;
	}
	d.out = outputs_build(d.loop, d.config);
	if (d.out == NULL)
		return 1;
	d.sessions = session_set_new(d.loop, d.out);
	if (d.sessions == NULL) {
		diag_error("start: %s", strerror(errno));
		return 1;
	}
	if (session_set_configure(d.sessions, d.config, err, sizeof(err)) < 0) {
		diag_error("%s", err);
		return 1;
	}
	diag_info("msgeventd %s started, server-name %s", MSGEVENTD_VERSION,
	    d.config->server_name);

	if (loop_run(d.loop) < 0) {
		diag_error("event loop: %s", strerror(errno));
		return 1;
	}

	session_set_free(&d.sessions);
	left = out_flush(d.out, FLUSH_EXIT_MS);
	if (left > 0)
		diag_warn("shutdown: %zu events could not be sent", left);
	out_free(&d.out);
	loop_free(&d.loop);
	close(d.sigfd);
	config_free(&d.config);
	diag_info("stopped");
	return 0;
}
