/*
 * main.c - seglog's entry point: one table of subcommands, one function each
 * whose return value is the exit status (as git's commands[]), `seglog help`
 * and `seglog CMD --help`.  SIGPIPE is ignored so that a closed stdout shows
 * up as EPIPE and ends the command quietly (docs/CLI.md, "Exit status").
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int cmd_help(int argc, char **argv);

static const cli_command commands[] = {
    {"consume", cmd_consume, "print records of a topic (kcat -C)",
     "usage: seglog consume (-d DIR | -b BROKERS [-X K=V]...) -t TOPIC [-p N] [-o "
     "OFFSET]\n"
     "                      [-e] [-c COUNT] [-f FORMAT | -J] [-K DELIM] [-D DELIM] [-Z]\n"
     "  -d DIR       log directory (offline mode, read-only, no lock)\n"
     "  -b BROKERS   HOST:PORT[,...] (network mode, librdkafka)\n"
     "  -X K=V       librdkafka property (network mode; repeatable)\n"
     "  -t TOPIC     topic\n"
     "  -p N         partition (default: all, one after the other)\n"
     "  -o OFFSET    beginning | end | N | -N (N before the end) |\n"
     "               s@TS (first record at/after TS ms) | e@TS (stop before TS)\n"
     "  -e           exit at the end offsets seen at start (else follow)\n"
     "  -c COUNT     exit after COUNT records\n"
     "  -f FORMAT    kcat format: %t %p %o %T %k %K %s %S %R %h %%, \\n \\t \\xHH;\n"
     "               modifiers %xk %xs %xh (hex), %bk %bs %bh (base64), %iT (ISO time)\n"
     "  -J           JSON envelope per line (kcat -J; binary as {\"base64\":...})\n"
     "  -G GROUP     join consumer group GROUP (network mode; commits offsets)\n"
     "  -K DELIM     print the key and DELIM before each payload\n"
     "  -D DELIM     record delimiter (default \\n)\n"
     "  -Z           print null keys/payloads as NULL\n"},
    {"produce", cmd_produce, "append records to a topic (kcat -P)",
     "usage: seglog produce -d DIR -t TOPIC [-p N] [-K DELIM] [-D DELIM] [-H K=V]...\n"
     "                      [-z CODEC] [-l FILE] [-J] [-T TS] [--partitions N] "
     "[FILE...]\n"
     "  -d DIR         log directory (offline: takes the writer lock)\n"
     "  -t TOPIC       topic (created with --partitions partitions if missing)\n"
     "  -p N           partition (default: Kafka's partitioner: murmur2 of the key,\n"
     "                 sticky batches for keyless records)\n"
     "  -K DELIM       split each record into key DELIM value\n"
     "  -D DELIM       record delimiter (default \\n)\n"
     "  -H KEY=VALUE   add a header to every record (repeatable)\n"
     "  -z CODEC       none | gzip | snappy | lz4 | zstd\n"
     "  -l FILE        read records from FILE instead of stdin\n"
     "  -J             input is JSON envelopes, one per line (consume -J output)\n"
     "  -T TS          timestamp for every record (ms; default now)\n"
     "  -Z             send empty records as null values\n"
     "  --partitions N       partitions of a topic created here (default 1)\n"
     "  --topic-config K=V   Kafka topic config for this run (segment.bytes, ...)\n"
     "  --batch-bytes N      uncompressed bytes per batch (default 1000000)\n"
     "  FILE...        each file is sent whole as one record\n"},
    {"dump", cmd_dump, "show segment, index, snapshot and checkpoint files",
     "usage: seglog dump [--deep-iteration] [--print-data-log] [--json] PATH...\n"
     "  PATH   a .log, .index, .timeindex, .txnindex, .snapshot, checkpoint,\n"
     "         partition.metadata or meta.properties file, a partition dir or a log dir\n"
     "  --deep-iteration   show every record, not only batch headers\n"
     "  --print-data-log   show keys, payloads and headers (implies --deep-iteration)\n"
     "  --json             one JSON object per batch / file\n"
     "  --offsets-decoder, --transaction-log-decoder   (kafka-dump-log's) imply\n"
     "                     --print-data-log; records of __consumer_offsets and\n"
     "                     __transaction_state are always decoded unless\n"
     "  --raw-internal     shows them as raw bytes\n"},
    {"verify", cmd_verify, "check CRCs, offsets and indexes; --repair fixes",
     "usage: seglog verify [--repair] PATH...\n"
     "  PATH       a partition dir or a log dir\n"
     "  --repair   rebuild indexes and truncate a torn or corrupt tail (takes the\n"
     "             writer lock; says what it removes first)\n"
     "Exit status 0 when sound, 3 when problems were found.\n"},
    {"compact", cmd_compact, "run the log cleaner on a partition",
     "usage: seglog compact -d DIR -t TOPIC [-p N] [--roll] [--respect-ratio]\n"
     "  Cleans (keeps the latest record per key) with the writer lock held.\n"
     "  --roll            roll the active segment first (Kafka never cleans it)\n"
     "  --respect-ratio   only clean when min.cleanable.dirty.ratio says so\n"},
    {"topics", cmd_topics, "list, describe, create, delete or alter topics",
     "usage: seglog topics list (-d DIR | -b BROKERS [-X K=V]...)\n"
     "       seglog topics describe (-d DIR | -b BROKERS [-X K=V]...) [-t TOPIC]\n"
     "       seglog topics create (-d DIR | -b BROKERS) -t TOPIC [--partitions N]\n"
     "                            [--replication-factor R] [--config K=V]...\n"
     "       seglog topics delete (-d DIR | -b BROKERS) -t TOPIC\n"
     "       seglog topics alter -b BROKERS -t TOPIC [--add-config K=V[,K=V]]...\n"
     "                           [--delete-config K[,K]]...\n"
     "  --partitions N            partitions of the new topic (default 1)\n"
     "  --replication-factor R    network mode (default: the broker's)\n"
     "  --config K=V              topic config, network mode (repeatable)\n"
     "  --add-config K=V          alter: set a topic config (kafka-configs --alter)\n"
     "  --delete-config K         alter: remove a topic config (back to the default)\n"},
    {"groups", cmd_groups, "list, describe, reset or delete consumer groups",
     "usage: seglog groups list -b BROKERS [--state [S,...]]\n"
     "       seglog groups describe -b BROKERS (-g GROUP... | --all-groups)\n"
     "                              [--offsets | --members [--verbose] | --state]\n"
     "       seglog groups reset-offsets -b BROKERS -g GROUP... (--topic T[:P,...]... |\n"
     "                              --all-topics) RESET [--dry-run | --execute]\n"
     "       seglog groups delete -b BROKERS -g GROUP... [--topic T[:P,...]...]\n"
     "  -b BROKERS   HOST:PORT[,...] (network mode only; -X K=V passes librdkafka "
     "props)\n"
     "  -g GROUP     consumer group (--group; repeatable)\n"
     "  list         GROUP STATE PROTOCOL-TYPE; --state S,... keeps those states\n"
     "  describe     --offsets (default): committed offset, log end offset and lag per\n"
     "               partition with its member; --members: members and assignments;\n"
     "               --state: coordinator, assignor, state, member count\n"
     "  RESET        --to-earliest | --to-latest | --to-current | --to-offset N |\n"
     "               --to-datetime YYYY-MM-DDTHH:MM:SS[.mmm] (UTC) | --by-duration "
     "PnDTnHnMnS\n"
     "               | --shift-by N   (offsets are kept within the log's start and end)\n"
     "  --execute    apply the plan (default: dry run, prints the plan only); the group\n"
     "               must be inactive (Empty), else it is refused (exit 1)\n"
     "  delete       deletes an empty group; with --topic only its offsets there\n"},
    {"offsets", cmd_offsets, "earliest, latest or by-time offsets",
     "usage: seglog offsets (-d DIR | -b BROKERS [-X K=V]...) -t TOPIC [-p N] [--time "
     "TS]\n"
     "  TS   earliest | latest | max | ms since the epoch | ISO 8601 time\n"
     "  Without --time: a table of earliest and latest offsets.\n"
     "  With --time: TOPIC:PARTITION:OFFSET lines (-1 when none).\n"},
    {"perf", cmd_perf, "load generators (kafka-*-perf-test output)",
     "usage: seglog perf produce -b BROKERS -t TOPIC --num-records N [--record-size S]\n"
     "                          [--throughput R] [-X K=V]...\n"
     "       seglog perf consume -b BROKERS -t TOPIC --num-records N [-X K=V]...\n"
     "  --num-records N    records to send / to consume\n"
     "  --record-size S    bytes per record (default 100)\n"
     "  --throughput R     records per second (-1: as fast as possible)\n"
     "Output lines match kafka-producer-perf-test and kafka-consumer-perf-test.\n"},
    {"mock-cluster", cmd_mock_cluster, "run librdkafka's mock cluster (for tests)",
     "usage: seglog mock-cluster [--brokers N] [--topic NAME:PARTITIONS]...\n"
     "  Starts librdkafka's in-process mock Kafka cluster, prints its bootstrap\n"
     "  servers on stdout and serves until stdin closes or SIGTERM/SIGINT.\n"
     "  --brokers N   number of mock brokers (default 1)\n"
     "  --topic T:N   create topic T with N partitions first (repeatable)\n"},
    {"help", cmd_help, "show help for seglog or a command",
     "usage: seglog help [COMMAND]\n"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

const cli_command *cli_find_command(const char *name) {
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (strcmp(commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

void cli_usage(const char *cmd, bool to_stderr) {
  const cli_command *c = cli_find_command(cmd);
  FILE *f = to_stderr ? stderr : stdout;
  if (c)
    fputs(c->usage, f);
}

static void main_usage(FILE *f) {
  fputs("usage: seglog COMMAND [OPTIONS]\n\ncommands:\n", f);
  for (size_t i = 0; i < NCOMMANDS; i++)
    fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
  fputs("\n`seglog COMMAND --help` shows a command's options; `man seglog` the rest.\n"
        "Exit status: 0 ok, 1 error, 2 usage, 3 problems found, 4 log dir locked.\n",
        f);
}

static int cmd_help(int argc, char **argv) {
  if (argc > 1) {
    if (!cli_find_command(argv[1]))
      return cli_usage_error("unknown command '%s'", argv[1]);
    cli_usage(argv[1], false);
    return CLI_OK;
  }
  main_usage(stdout);
  return CLI_OK;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc < 2) {
    main_usage(stderr);
    return CLI_USAGE;
  }
  const char *name = argv[1];
  if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
    name = "help";
  if (strcmp(name, "--version") == 0) {
    puts("seglog 0.1.0");
    return CLI_OK;
  }
  const cli_command *c = cli_find_command(name);
  cli_set_progname(name);
  if (!c) {
    fprintf(stderr, "seglog: unknown command '%s' (see `seglog help`)\n", name);
    return CLI_USAGE;
  }
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      cli_usage(name, false);
      return CLI_OK;
    }
    if (strcmp(argv[i], "--") == 0)
      break;
  }
  int rc = c->fn(argc - 1, argv + 1);
  if (rc == CLI_OK || rc == CLI_PROBLEMS) {
    int frc = cli_out_flush();
    if (frc == CLI_PIPE_CLOSED)
      frc = CLI_OK;
    if (frc != CLI_OK && rc == CLI_OK)
      rc = frc;
  }
  if (rc == CLI_PIPE_CLOSED)
    rc = CLI_OK; /* the reader went away (`| head`): not an error */
  cli_out_release();
  if (fclose(stdout) != 0 && rc == CLI_OK) {
    /* help text could not be written */
    rc = CLI_ERROR;
  }
  return rc;
}
