/* `delivered NAME`: `sealmail deliver` tells the daemon that a message
 * for NAME was committed, so that a user with live sessions takes it in
 * now and their IDLE wakes (store_deliveries_arrived). For a user who is
 * not logged in it does nothing: the next login takes the mail in. */
#include <errno.h>
#include <string.h>

#include "src/admin.h"
#include "src/log.h"
#include "src/server.h"
#include "storage/store.h"

int admin_cmd_delivered(struct admin_request *req)
{
	if (req->argc != 2) {
		req->error = "usage: delivered NAME";
		return -EINVAL;
	}
	if (!req->server->store) {
		req->error = "the store is not running";
		return -EAGAIN;
	}
	int n = store_deliveries_arrived(req->server->store, req->argv[1]);
	if (n < 0) {
		/* The messages stay pending; the next login retries. */
		conn_log(req->conn, LOG_WARNING, "admin: delivered: taking in mail failed: %s",
			 strerror(-n));
		req->error = "taking in the delivery failed; it stays pending";
		return n;
	}
	if (n > 0)
		conn_log(req->conn, LOG_INFO, "admin: delivered: %d message(s) taken in", n);
	return admin_reply_line(req, "taken in: %d", n);
}
