/* Unit tests of coro_connect() (coro/connect.c): a listening port
 * connects, a closed one fails with -ECONNREFUSED (libuv reports that
 * POLLERR as UV_EBADF; the error must be the socket's own). */
#include "tests/unit/test.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "coro/connect.h"
#include "coro/coro.h"

struct connect_case {
	struct sockaddr_in addr;
	int result;
};

static void connect_coro(void *arg)
{
	struct connect_case *cc = arg;
	int fd = coro_connect((struct sockaddr *)&cc->addr, sizeof(cc->addr),
			      coro_deadline_in(5000));
	cc->result = fd < 0 ? fd : 0;
	if (fd >= 0)
		close(fd);
}

/* A loopback port, listening or (listen false) just released. */
static int loopback_port(bool listen_on, struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	socklen_t len = sizeof(*addr);
	*addr = (struct sockaddr_in){ .sin_family = AF_INET,
				      .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	CHECK(fd >= 0);
	CHECK_INT(bind(fd, (struct sockaddr *)addr, sizeof(*addr)), ==, 0);
	CHECK_INT(getsockname(fd, (struct sockaddr *)addr, &len), ==, 0);
	if (listen_on) {
		CHECK_INT(listen(fd, 4), ==, 0);
		return fd;
	}
	close(fd);
	return -1;
}

static int run_connect(bool listen_on)
{
	uv_loop_t loop;
	struct connect_case cc;
	int lfd = loopback_port(listen_on, &cc.addr);
	CHECK_INT(uv_loop_init(&loop), ==, 0);
	CHECK_INT(coro_runtime_init(&loop), ==, 0);
	CHECK(coro_spawn(connect_coro, &cc, 0) != NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	coro_runtime_shutdown();
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_INT(uv_loop_close(&loop), ==, 0);
	if (lfd >= 0)
		close(lfd);
	return cc.result;
}

TEST(connect_to_a_listening_port)
{
	CHECK_INT(run_connect(true), ==, 0);
}

TEST(connect_refused_says_so)
{
	CHECK_INT(run_connect(false), ==, -ECONNREFUSED);
}
