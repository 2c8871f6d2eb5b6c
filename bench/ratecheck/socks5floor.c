/*
 * The floor for bench/ratecheck.sh: the least a SOCKS5 proxy can do per session on this machine. No-auth CONNECT to
 * IPv4 addresses only, one thread per core, each with its own epoll set and its own SO_REUSEPORT listener (so no
 * thread hands a connection to another), non-blocking sockets, no allocation after a session's one calloc, no
 * logging, no rules, no timeouts. It answers one question: how many sessions per second can *any* proxy reach under
 * the session-rate load here, and how much CPU does the kernel alone take per session?
 *
 *   socks5floor PORT THREADS MAX_SECONDS
 *
 * Listens on 127.0.0.1:PORT only. Replies as RFC 1928 asks (the upstream socket's own address in BND.ADDR/BND.PORT,
 * 0x08 for an address type other than IPv4, 0x07 for a command other than CONNECT, 0x05 when the connect fails), passes
 * each FIN on with shutdown(SHUT_WR), closes a session once both directions have ended, and exits on its own after
 * MAX_SECONDS. Not a proxy to run: it accepts any client and any target.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum state { GREETING, REQUEST, CONNECTING, RELAY };

struct session;

/* One socket of a session; the epoll data points here, and `other` is the socket its reads go to. */
struct end {
  int fd;
  int eof;            /* a read returned 0: FIN received and passed on (or to be, once pending is written) */
  struct session *s;
  struct end *other;
  char pending[8192]; /* read from this end, not yet written to the other (the other's send buffer was full) */
  size_t pending_len;
  size_t pending_off;
};

struct session {
  enum state state;
  struct end client;
  struct end upstream;
  char head[512]; /* the handshake bytes read so far */
  size_t head_len;
};

static int port;
static struct end dropped; /* stands in, within one epoll_wait batch, for the ends of a session just ended */

/* What to wait for on an end: input unless it ended or its last read is still waiting to be written, and output while
 * the other end's bytes wait for this one's send buffer. */
static unsigned interest(const struct end *e) {
  return (e->eof || e->pending_len > 0 ? 0u : (unsigned) EPOLLIN) | (e->other->pending_len > 0 ? (unsigned) EPOLLOUT : 0u);
}

static void watch(int ep, int op, struct end *e, unsigned events) {
  struct epoll_event ev = {.events = events, .data.ptr = e};
  epoll_ctl(ep, op, e->fd, &ev);
}

static void end_session(struct session *s) {
  close(s->client.fd);
  if (s->upstream.fd >= 0) {
    close(s->upstream.fd);
  }
  free(s);
}

static int send_all(int fd, const char *buf, size_t n) {
  return send(fd, buf, n, MSG_NOSIGNAL) == (ssize_t) n ? 0 : -1;
}

static void reply(struct session *s, unsigned char code, const struct sockaddr_in *bound) {
  unsigned char r[10] = {5, code, 0, 1, 0, 0, 0, 0, 0, 0};
  if (bound != NULL) {
    memcpy(r + 4, &bound->sin_addr, 4);
    memcpy(r + 8, &bound->sin_port, 2);
  }
  send_all(s->client.fd, (const char *) r, sizeof r);
}

/* The client's greeting and request; returns -1 when the session is over. */
static int handshake(int ep, struct session *s) {
  ssize_t n = recv(s->client.fd, s->head + s->head_len, sizeof s->head - s->head_len, 0);
  if (n == 0 || (n < 0 && errno != EAGAIN)) {
    return -1;
  }
  if (n < 0) {
    return 0;
  }
  s->head_len += (size_t) n;
  unsigned char *h = (unsigned char *) s->head;
  if (s->state == GREETING) {
    if (s->head_len < 2 || s->head_len < 2u + h[1]) {
      return 0;
    }
    if (h[0] != 5 || memchr(h + 2, 0, h[1]) == NULL) {
      send_all(s->client.fd, "\5\377", 2);
      return -1;
    }
    size_t used = 2u + h[1];
    memmove(s->head, s->head + used, s->head_len - used);
    s->head_len -= used;
    s->state = REQUEST;
    if (send_all(s->client.fd, "\5\0", 2) != 0) {
      return -1;
    }
  }
  if (s->head_len < 4) {
    return 0;
  }
  if (h[0] != 5 || h[1] != 1) {
    reply(s, 7, NULL);
    return -1;
  }
  if (h[3] != 1) {
    reply(s, 8, NULL);
    return -1;
  }
  if (s->head_len < 10) {
    return 0;
  }
  struct sockaddr_in target = {.sin_family = AF_INET};
  memcpy(&target.sin_addr, h + 4, 4);
  memcpy(&target.sin_port, h + 8, 2);
  s->upstream.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (s->upstream.fd < 0) {
    reply(s, 1, NULL);
    return -1;
  }
  int one = 1;
  setsockopt(s->upstream.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(s->upstream.fd, (struct sockaddr *) &target, sizeof target) != 0 && errno != EINPROGRESS) {
    reply(s, 5, NULL);
    return -1;
  }
  s->state = CONNECTING;
  watch(ep, EPOLL_CTL_MOD, &s->client, 0); /* bytes pipelined after the request wait in the kernel */
  watch(ep, EPOLL_CTL_ADD, &s->upstream, EPOLLOUT);
  return 0;
}

static int connected(int ep, struct session *s) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(s->upstream.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
    reply(s, 5, NULL);
    return -1;
  }
  struct sockaddr_in bound;
  len = sizeof bound;
  getsockname(s->upstream.fd, (struct sockaddr *) &bound, &len);
  reply(s, 0, &bound);
  s->state = RELAY;
  size_t extra = s->head_len - 10; /* pipelined payload already read with the request */
  if (extra > 0 && send_all(s->upstream.fd, s->head + 10, extra) != 0) {
    return -1;
  }
  watch(ep, EPOLL_CTL_MOD, &s->upstream, interest(&s->upstream));
  watch(ep, EPOLL_CTL_MOD, &s->client, interest(&s->client));
  return 0;
}

/* Writes what `from` has pending to its other end; 1 when all of it went, 0 when the send buffer filled, -1 on error. */
static int flush(int ep, struct end *from) {
  struct end *to = from->other;
  while (from->pending_off < from->pending_len) {
    ssize_t w = send(to->fd, from->pending + from->pending_off, from->pending_len - from->pending_off, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno != EAGAIN) {
        return -1;
      }
      watch(ep, EPOLL_CTL_MOD, from, interest(from)); /* back-pressure: stop reading until the other end drains */
      watch(ep, EPOLL_CTL_MOD, to, interest(to));
      return 0;
    }
    from->pending_off += (size_t) w;
  }
  from->pending_len = from->pending_off = 0;
  if (from->eof) {
    shutdown(to->fd, SHUT_WR);
  }
  return 1;
}

/* Relays what `e` can read; returns -1 when the session is over. */
static int relay(int ep, struct end *e, unsigned events) {
  struct end *o = e->other;
  if (events & EPOLLOUT) { /* our other end had bytes waiting for this one's send buffer */
    int r = flush(ep, o);
    if (r < 0) {
      return -1;
    }
    if (r == 1) {
      watch(ep, EPOLL_CTL_MOD, e, interest(e));
      watch(ep, EPOLL_CTL_MOD, o, interest(o));
    }
  }
  if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || e->eof || e->pending_len > 0) {
    return e->eof && o->eof && e->pending_len == 0 && o->pending_len == 0 ? -1 : 0;
  }
  ssize_t n = recv(e->fd, e->pending, sizeof e->pending, 0);
  if (n < 0) {
    return errno == EAGAIN ? 0 : -1;
  }
  e->pending_len = (size_t) n;
  e->pending_off = 0;
  if (n == 0) {
    e->eof = 1;
    watch(ep, EPOLL_CTL_MOD, e, interest(e));
  }
  if (flush(ep, e) < 0) {
    return -1;
  }
  return e->eof && o->eof && e->pending_len == 0 && o->pending_len == 0 ? -1 : 0;
}

static void *loop(void *arg) {
  (void) arg;
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(listener, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short) port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, (struct sockaddr *) &addr, sizeof addr) != 0 || listen(listener, 1024) != 0) {
    perror("bind/listen");
    exit(1);
  }
  int ep = epoll_create1(0);
  struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &lev);
  struct epoll_event events[256];
  for (;;) {
    int ready = epoll_wait(ep, events, 256, -1);
    for (int i = 0; i < ready; i++) {
      struct end *e = events[i].data.ptr;
      if (e == &dropped) {
        continue;
      }
      if (e == NULL) {
        int fd;
        while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          struct session *s = calloc(1, sizeof *s);
          if (s == NULL) {
            close(fd);
            continue;
          }
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          s->client.fd = fd;
          s->client.s = s;
          s->client.other = &s->upstream;
          s->upstream.fd = -1;
          s->upstream.s = s;
          s->upstream.other = &s->client;
          watch(ep, EPOLL_CTL_ADD, &s->client, EPOLLIN);
        }
        continue;
      }
      struct session *s = e->s;
      int r;
      if (s->state == RELAY) {
        r = relay(ep, e, events[i].events);
      } else if (s->state == CONNECTING) {
        r = e == &s->upstream ? connected(ep, s) : 0;
      } else {
        r = handshake(ep, s);
      }
      if (r < 0) {
        /* a later event of this batch may name one of the session's ends: drop those before the session goes */
        for (int j = i + 1; j < ready; j++) {
          struct end *later = events[j].data.ptr;
          if (later == &s->client || later == &s->upstream) {
            events[j].data.ptr = &dropped;
          }
        }
        end_session(s); /* close() takes both sockets out of the epoll set */
      }
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s PORT THREADS MAX_SECONDS\n", argv[0]);
    return 2;
  }
  port = atoi(argv[1]);
  int threads = atoi(argv[2]);
  alarm((unsigned) atoi(argv[3]));
  signal(SIGPIPE, SIG_IGN);
  for (int t = 1; t < threads; t++) {
    pthread_t id;
    pthread_create(&id, NULL, loop, NULL);
  }
  loop(NULL);
  return 0;
}
