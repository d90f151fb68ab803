/*
 * rdkafka.h - the example includes "rdkafka.h" as it is built inside
 * librdkafka's tree; here that is the installed public header.
 */
#include <librdkafka/rdkafka.h>
