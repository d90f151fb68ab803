/*
 * rdtime.h - rd_clock() and rd_ts_t for librdkafka's rdkafka_performance.c
 * example; they live in rd.h (see there).
 */
#include "rd.h"
