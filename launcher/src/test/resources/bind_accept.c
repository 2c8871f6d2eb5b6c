/*
 * A plain TCP server for DanteBindTest: bind to port 0, listen, print "BND <addr> <port>", accept one connection,
 * print "PEER <addr> <port>", send a greeting, print what comes back. Run under Dante's socksify, the bind(),
 * listen(), getsockname() and accept() calls become a SOCKS5 BIND through the proxy (libdsocks interposes them;
 * it does not interpose accept4(), which is why this is C and not Python).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  if (s < 0 || bind(s, (struct sockaddr *) &a, sizeof a) != 0 || listen(s, 1) != 0) {
    perror("bind/listen");
    return 1;
  }
  socklen_t len = sizeof a;
  getsockname(s, (struct sockaddr *) &a, &len);
  printf("BND %s %d\n", inet_ntoa(a.sin_addr), ntohs(a.sin_port));
  fflush(stdout);
  struct sockaddr_in p;
  len = sizeof p;
  int c = accept(s, (struct sockaddr *) &p, &len);
  if (c < 0) {
    perror("accept");
    return 1;
  }
  printf("PEER %s %d\n", inet_ntoa(p.sin_addr), ntohs(p.sin_port));
  fflush(stdout);
  const char *hello = "hello from the bind side\n";
  if (write(c, hello, strlen(hello)) < 0) {
    perror("write");
    return 1;
  }
  char buf[128];
  ssize_t n = read(c, buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = '\0';
  printf("GOT %s\n", buf);
  fflush(stdout);
  close(c);
  return 0;
}
