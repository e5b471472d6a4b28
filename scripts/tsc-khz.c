// SPDX-License-Identifier: GPL-2.0
/*
 * Prints the rate of this machine's TSC in kHz, measured against
 * CLOCK_MONOTONIC_RAW over 200 ms (scripts/vm.sh: under TCG the guest's
 * TSC is the host's, and the guest kernel is told its rate).
 */
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC_RAW, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void)
{
	const struct timespec wait = { 0, 200 * 1000 * 1000 };
	unsigned long long c0, c1;
	double t0, t1;

	t0 = now();
	c0 = __rdtsc();
	nanosleep(&wait, NULL);
	t1 = now();
	c1 = __rdtsc();
	printf("%.0f\n", (c1 - c0) / (t1 - t0) / 1000);
	return 0;
}
