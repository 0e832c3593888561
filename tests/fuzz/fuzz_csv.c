/*
 * fuzz_csv — libFuzzer target for bin/report's CSV reading (reports/csv.c): the
 * input is written to a memfd and loaded through its /proc path, as csv_load
 * reads files; then every check bin/report makes on a loaded file is run over
 * every cell.
 */
#include "csv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct csv c;
	char err[1024];
	double v;

	if (fd < 0) {
		fd = memfd_create("fuzz_csv", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	if (csv_load(&c, path, err, sizeof err) < 0) {
		if (strstr(err, path) != err)
			abort(); /* every error names the file */
		return 0;
	}
	if (c.nrows == 0)
		abort(); /* a non-empty file has a header */
	(void)csv_col(&c, "Name");
	if (csv_check_widths(&c, err, sizeof err) == 0) {
		for (size_t r = 1; r < c.nrows; r++)
			for (int f = 0; f < c.rows[0].nf; f++)
				(void)csv_number(&c, r, f, f & 1, &v, err, sizeof err);
	}
	for (size_t r = 0; r < c.nrows; r++)
		for (int f = 0; f < c.rows[r].nf; f++)
			(void)strlen(c.rows[r].f[f]);
	csv_free(&c);
	return 0;
}
