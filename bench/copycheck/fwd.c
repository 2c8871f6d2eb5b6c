/*
 * A minimal TCP forwarder for bench/copycheck.sh: what relaying costs on this machine with no protocol, no event
 * loop and no JVM, once with read(2)/write(2) (two copies per byte) and once with splice(2) through a pipe (no copy
 * in user space). It answers one question: would splice make a relay faster here?
 *
 *   fwd PORT TARGET_PORT copy|splice [BYTES] MAX_SECONDS
 *
 * BYTES: the read and write size for copy (default 128 KiB), the pipe size for splice (default: the kernel's, 64 KiB).
 * Listens on 127.0.0.1:PORT only, connects every client to 127.0.0.1:TARGET_PORT, one thread per direction
 * (blocking sockets), passes each FIN on with shutdown(SHUT_WR), and exits on its own after MAX_SECONDS.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int splice_mode;
static int bytes;
static int target_port;

struct direction {
  int src;
  int dst;
};

static int write_all(int fd, const char *buf, ssize_t n) {
  while (n > 0) {
    ssize_t w = write(fd, buf, (size_t) n);
    if (w <= 0) {
      return -1;
    }
    buf += w;
    n -= w;
  }
  return 0;
}

static void copy_loop(int src, int dst) {
  size_t size = bytes > 0 ? (size_t) bytes : 128 * 1024;
  char *buf = malloc(size);
  ssize_t n;
  while (buf != NULL && (n = read(src, buf, size)) > 0 && write_all(dst, buf, n) == 0) {
  }
  free(buf);
}

static void splice_loop(int src, int dst) {
  int p[2];
  if (pipe(p) != 0) {
    return;
  }
  size_t chunk = 65536;
  if (bytes > 0 && fcntl(p[1], F_SETPIPE_SZ, bytes) > 0) {
    chunk = (size_t) bytes;
  }
  for (;;) {
    ssize_t in = splice(src, NULL, p[1], NULL, chunk, SPLICE_F_MOVE | SPLICE_F_MORE);
    if (in <= 0) {
      break;
    }
    while (in > 0) {
      ssize_t out = splice(p[0], NULL, dst, NULL, (size_t) in, SPLICE_F_MOVE | SPLICE_F_MORE);
      if (out <= 0) {
        goto done;
      }
      in -= out;
    }
  }
done:
  close(p[0]);
  close(p[1]);
}

static void *relay(void *arg) {
  struct direction *d = arg;
  if (splice_mode) {
    splice_loop(d->src, d->dst);
  } else {
    copy_loop(d->src, d->dst);
  }
  shutdown(d->dst, SHUT_WR);
  return NULL;
}

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short) port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

static void *session(void *arg) {
  int client = (int) (long) arg;
  int upstream = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in target = loopback(target_port);
  if (upstream >= 0 && connect(upstream, (struct sockaddr *) &target, sizeof target) == 0) {
    int one = 1;
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(upstream, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct direction up = {client, upstream};
    struct direction down = {upstream, client};
    pthread_t t;
    if (pthread_create(&t, NULL, relay, &up) == 0) {
      relay(&down);
      pthread_join(t, NULL);
    }
  }
  if (upstream >= 0) {
    close(upstream);
  }
  close(client);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s PORT TARGET_PORT copy|splice [BYTES] MAX_SECONDS\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]);
  target_port = atoi(argv[2]);
  splice_mode = strcmp(argv[3], "splice") == 0;
  bytes = argc > 5 ? atoi(argv[4]) : 0;
  alarm((unsigned) atoi(argv[argc - 1]));
  signal(SIGPIPE, SIG_IGN);

  int listener = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = loopback(port);
  if (bind(listener, (struct sockaddr *) &addr, sizeof addr) != 0 || listen(listener, 64) != 0) {
    perror("bind/listen");
    return 1;
  }
  for (;;) {
    int client = accept(listener, NULL, NULL);
    if (client < 0) {
      continue;
    }
    pthread_t t;
    if (pthread_create(&t, NULL, session, (void *) (long) client) == 0) {
      pthread_detach(t);
    } else {
      close(client);
    }
  }
}
