/*
 * fuzz_locust_msg — libFuzzer target for what bin/load --worker reads from a
 * Locust master: any frame goes through locust_msg_decode, and what decodes is
 * read as a spawn and as an ack, as the worker would. Nothing may crash or leak;
 * a decoded message always has a type, and a spawn that parses has sane counts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "locust_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct locust_msg m;
	struct locust_spawn job;
	char why[300];

	if (locust_msg_decode(&m, data, size, why, sizeof why) == 0) {
		if (m.type[0] == '\0')
			abort();
		if (locust_msg_spawn(&m, &job, why, sizeof why) == 0) {
			if (job.n_classes < 0 || job.n_classes > LOCUST_MSG_MAX_CLASSES)
				abort();
			for (int i = 0; i < job.n_classes; i++)
				if (job.cls[i].count < 0 || strlen(job.cls[i].name) >= sizeof job.cls[i].name)
					abort();
		}
		(void)locust_msg_ack_index(&m);
	} else if (why[0] == '\0') {
		abort(); /* a refusal always says why */
	}
	locust_msg_release(&m);
	return 0;
}
