#ifndef SEALMAIL_FDLIMIT_H
#define SEALMAIL_FDLIMIT_H

/* Raises the soft open-file limit towards want (never past the hard limit)
 * and grows the process's descriptor table to the result at once. Growing
 * it later, with worker threads running, makes accept() wait for an RCU
 * grace period (about 10 ms with the loop stalled) at every doubling.
 * Returns the usable limit. */
unsigned fdlimit_prepare(unsigned want);

#endif
