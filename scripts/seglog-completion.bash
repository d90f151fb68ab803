# Bash completion for seglog (docs/CLI.md).  Source it from ~/.bashrc or
# install it as /usr/share/bash-completion/completions/seglog.
_seglog() {
  local cur prev cmd
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  cmd=${COMP_WORDS[1]}
  local commands="consume produce dump verify compact topics groups offsets perf mock-cluster help"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
    return
  fi
  # Topics of the log dir given with -d, for -t.
  local dir="" i
  for ((i = 2; i < COMP_CWORD; i++)); do
    if [ "${COMP_WORDS[i]}" = "-d" ]; then dir=${COMP_WORDS[i+1]}; fi
  done
  case "$prev" in
    -d) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    -l) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    -t)
      if [ -n "$dir" ] && [ -d "$dir" ]; then
        COMPREPLY=($(compgen -W "$(ls "$dir" 2>/dev/null | sed -n 's/^\(.*\)-[0-9][0-9]*$/\1/p' | sort -u)" -- "$cur"))
      fi
      return ;;
    -o) COMPREPLY=($(compgen -W "beginning end s@ e@" -- "$cur")); return ;;
    -z) COMPREPLY=($(compgen -W "none gzip snappy lz4 zstd" -- "$cur")); return ;;
    --time) COMPREPLY=($(compgen -W "earliest latest max" -- "$cur")); return ;;
    --state)
      [ "$cmd" = groups ] && COMPREPLY=($(compgen -W "Stable Empty PreparingRebalance CompletingRebalance Dead" -- "$cur"))
      return ;;
    -b|-X|-G|-g|--group|--brokers|--num-records|--record-size|--throughput|-p|-c|-f|-K|-D|-H|-T|--replication-factor|--config|--add-config|--delete-config|--partitions|--topic-config|--batch-bytes|--topic|--to-offset|--to-datetime|--by-duration|--shift-by) return ;;
  esac
  local opts=""
  case "$cmd" in
    consume) opts="-b -X -G -d -t -p -o -e -c -f -J -K -D -Z --help" ;;
    produce) opts="-b -X -d -t -p -K -D -H -z -l -J -T -Z --partitions --topic-config --batch-bytes --help" ;;
    dump) opts="--deep-iteration --print-data-log --json --offsets-decoder --transaction-log-decoder --raw-internal --help" ;;
    verify) opts="--repair --help" ;;
    compact) opts="-d -t -p --roll --respect-ratio --help" ;;
    topics)
      if [ "$COMP_CWORD" -eq 2 ]; then
        COMPREPLY=($(compgen -W "list describe create delete alter" -- "$cur")); return
      fi
      opts="-b -X -d -t --partitions --replication-factor --config --add-config --delete-config --help" ;;
    groups)
      if [ "$COMP_CWORD" -eq 2 ] && [[ "$cur" != -* ]]; then
        COMPREPLY=($(compgen -W "list describe reset-offsets delete" -- "$cur")); return
      fi
      opts="-b -X -g --group --all-groups --offsets --members --verbose --state --topic --all-topics --to-earliest --to-latest --to-current --to-offset --to-datetime --by-duration --shift-by --dry-run --execute --help"
      case "${COMP_WORDS[2]}" in
        list) opts="-b -X --state --help" ;;
        describe) opts="-b -X -g --group --all-groups --offsets --members --verbose --state --help" ;;
        reset-offsets) opts="-b -X -g --group --topic --all-topics --to-earliest --to-latest --to-current --to-offset --to-datetime --by-duration --shift-by --dry-run --execute --help" ;;
        delete) opts="-b -X -g --group --topic --help" ;;
      esac ;;
    offsets) opts="-b -X -d -t -p --time --help" ;;
    mock-cluster) opts="--brokers --topic --help" ;;
    perf)
      if [ "$COMP_CWORD" -eq 2 ]; then
        COMPREPLY=($(compgen -W "produce consume" -- "$cur")); return
      fi
      opts="-b -t -X --num-records --record-size --throughput --help" ;;
    help) COMPREPLY=($(compgen -W "$commands" -- "$cur")); return ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _seglog seglog
