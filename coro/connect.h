/* Outgoing connections for coroutines. */
#ifndef SEAL_CORO_CONNECT_H
#define SEAL_CORO_CONNECT_H

#include <stdint.h>
#include <sys/socket.h>

/* Connects a non-blocking stream socket to addr, waiting (yielding) until
 * the deadline. Returns the connected fd (non-blocking, close-on-exec) or a
 * negative errno: -ETIMEDOUT, -ECONNREFUSED, -ECANCELED ... */
int coro_connect(const struct sockaddr *addr, socklen_t len, int64_t deadline);

#endif
